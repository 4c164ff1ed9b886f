"""Where labels can be on a page: labels wrapped inside narrow cells, and running text that is not one.

A long label in a narrow cell wraps (统一社会 / 信用代码, 享受待 / 遇起始 / 时间) and OCR returns each
line as a word of its own; the lines stacked in one cell are joined into one word, so the label is
found whole. A label's wording in running text is no label: quoted (“公民身份号码”栏须填写…), opening a
sentence (单位名称须与公章一致。), or in a numbered note or the notes block under 说明 / 填表须知 / 注.
"""

from __future__ import annotations

import re
import unicodedata

from pipeline.text import normalize_text
from schemas.models import OcrPage, Word

_QUOTES = "“”「」『』\"＂‘’'《》〈〉"
# A numbered note (1. 2、 (3) 一、) or one under 注: — never how a form prints a field's label.
_NOTE_MARK = re.compile(
    r"^\s*(?:注\s*[:：]\s*)?(?:\d{1,2}\s*[.、．)）]|[(（]\s*\d{1,2}\s*[)）]|[一二三四五六七八九十]\s*、)"
)
_NOTES_HEAD = re.compile(r"^\s*(?:(?:填表|填写)?(?:说明|须知|注意事项)|注)\s*[:：]?\s*$|^\s*注\s*[:：]")
_SENTENCE_END = re.compile(r"[。；;]")
_CLAUSE = re.compile(r"[，,]")
_MAX_LABEL_LINE = 8  # characters on one line of a wrapped label
_MAX_LINES = 3


def _height(w: Word) -> int:
    return max(1, w.box[3] - w.box[1])


def _han_share(text: str) -> float:
    t = normalize_text(text)
    return sum("\u4e00" <= c <= "\u9fff" for c in t) / len(t) if t else 0.0


def in_running_text(raw: str, label: str) -> bool:
    """Does the word read as a sentence or a note that mentions `label` rather than as the label?"""
    text = unicodedata.normalize("NFKC", raw).strip()
    if _NOTE_MARK.match(text) or _NOTES_HEAD.match(text):
        return True
    if text[:1] and text[0] in _QUOTES:
        return True
    # where the label ends in the raw text: after as many of its characters as were matched
    seen, end = 0, 0
    for i, ch in enumerate(text):
        if normalize_text(ch):
            seen += 1
        if seen >= len(label):
            end = i + 1
            break
    after = text[end:].lstrip()
    if after[:1] and after[0] in _QUOTES:
        return True
    han_after = sum("\u4e00" <= c <= "\u9fff" for c in after)
    return bool(_SENTENCE_END.search(after)) or (bool(_CLAUSE.search(after)) and han_after >= 8)


def notes_block(page: OcrPage) -> set[int]:
    """Indices of the words of the notes block: a heading (说明, 填表须知, 注：) and the lines that follow
    it without a gap, left-aligned with it or right of it."""
    words = page.words
    out: set[int] = set()
    for i, head in enumerate(words):
        if not _NOTES_HEAD.match(unicodedata.normalize("NFKC", head.text)):
            continue
        out.add(i)
        bottom, h = head.box[3], _height(head)
        below = sorted(
            (j for j, w in enumerate(words) if w.box[1] >= head.box[1] + h // 2 and w.box[0] >= head.box[0] - 2 * h),
            key=lambda j: words[j].box[1],
        )
        for j in below:
            w = words[j]
            if w.box[1] - bottom > 1.2 * h:
                break
            out.add(j)
            bottom = max(bottom, w.box[3])
    return out


def _stacks_under(upper: Word, lower: Word) -> bool:
    """Is `lower` the next line of a label wrapped in the cell `upper` starts?"""
    h = min(_height(upper), _height(lower))
    gap = lower.box[1] - upper.box[3]
    if not -0.2 * h <= gap <= 0.7 * h:
        return False
    left_aligned = abs(lower.box[0] - upper.box[0]) <= 0.8 * h
    centred = abs((lower.box[0] + lower.box[2]) - (upper.box[0] + upper.box[2])) <= 1.6 * h
    # the lines of one cell: the later ones no wider than the first (plus a character's slack)
    return (left_aligned or centred) and lower.box[2] - lower.box[0] <= upper.box[2] - upper.box[0] + h


def _label_line(w: Word) -> bool:
    t = normalize_text(w.text)
    return 0 < len(t) <= _MAX_LABEL_LINE and _han_share(w.text) >= 0.75


def _joined(lines: list[Word]) -> Word:
    return Word(
        text="".join(w.text.strip() for w in lines),
        box=(
            min(w.box[0] for w in lines),
            lines[0].box[1],
            max(w.box[2] for w in lines),
            max(w.box[3] for w in lines),
        ),
        confidence=min(w.confidence for w in lines),
    )


_last: tuple[OcrPage, list[Word]] | None = None


def label_words(page: OcrPage) -> list[Word]:
    """The words a label can be: every word outside the notes block, and each run of two or three short
    Han lines stacked in one cell joined into one word."""
    global _last
    # every field of a form looks its labels up on the same page: the last page's answer is kept
    if _last is not None and _last[0] is page:
        return _last[1]
    out = _label_words(page)
    _last = (page, out)
    return out


def _label_words(page: OcrPage) -> list[Word]:
    notes = notes_block(page)
    words = [w for i, w in enumerate(page.words) if i not in notes]
    lines = [w for w in words if _label_line(w)]
    out = list(words)
    for first in lines:
        if first.text.rstrip().endswith((":", "：")):
            continue
        run = [first]
        while len(run) < _MAX_LINES:
            nxt = [w for w in lines if w is not run[-1] and w not in run and _stacks_under(run[-1], w)]
            if len(nxt) != 1:
                break  # none, or two words side by side under it: not one cell's lines
            run.append(nxt[0])
            out.append(_joined(run))
            if run[-1].text.rstrip().endswith((":", "：")):
                break  # a label ends at its colon; the line under it is the next cell's
    return out
