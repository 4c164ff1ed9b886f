"""Find a printed label among the OCR words and the value that belongs to it.

In a table form the value sits in the cell to the right of its label, or below it; OCR may
also return label and value as one line ("姓名：张三"), and an ID written in 18 boxes comes
back as several fragments that must be joined.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from pipeline.extract.layout import in_running_text, label_words
from pipeline.text import normalize_text
from schemas.models import OcrPage, Word

# Labels printed beside the real ones that must never be read as a value (decoys).
STOP_LABELS = ("个人编号", "邮政编码", "联系电话", "电话", "备注", "签章", "盖章", "经办人", "审核人")
# Text of a seal that survived grey conversion (bitonal scans keep it): never a field value.
SEAL_WORDS = ("专用章", "公章", "业务章", "经办机构章")
_JOINED_MIN_SCORE = 90.0


@dataclass(frozen=True)
class Anchor:
    word: Word
    label: str
    remainder: str
    """Text after the label inside the same OCR line (may be empty)."""
    score: float


@dataclass(frozen=True)
class ValueSpan:
    text: str
    words: tuple[Word, ...]

    @property
    def confidence(self) -> float:
        return min((w.confidence for w in self.words), default=0.0)

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (
            min(w.box[0] for w in self.words),
            min(w.box[1] for w in self.words),
            max(w.box[2] for w in self.words),
            max(w.box[3] for w in self.words),
        )


def _label_score(text: str, label: str) -> tuple[float, str]:
    """How well `text` starts with `label` (0–100) and what follows it."""
    if text.startswith(label):
        return 100.0, text[len(label) :]
    if len(label) >= 4 and len(text) >= len(label) - 1:
        head = text[: len(label)]
        score = fuzz.ratio(head, label)
        if score >= 74:
            return score, text[len(label) :]
    return 0.0, ""


def find_anchors(page: OcrPage, labels: list[str]) -> list[Anchor]:
    """Where the labels are printed: a word that starts with one, or a label wrapped over two or three
    lines of a narrow cell (统一社会 / 信用代码), whose lines are joined into one word. A label that is
    quoted, starts a sentence or stands in the notes block (说明) is running text, not a label."""
    found: list[Anchor] = []
    norm_labels = [normalize_text(label) for label in labels if normalize_text(label)]
    printed = {id(w) for w in page.words}
    for word in label_words(page):
        text = normalize_text(word.text)
        if not text:
            continue
        best: Anchor | None = None
        for label in norm_labels:
            score, rest = _label_score(text, label)
            if score and (best is None or (score, len(label)) > (best.score, len(best.label))):
                best = Anchor(word=word, label=label, remainder=rest, score=score)
        if best is None or in_running_text(word.text, best.label):
            continue
        # lines joined from a wrapped label hold the label alone, its value is in the next cell
        if id(word) in printed or (best.score >= _JOINED_MIN_SCORE and not normalize_text(best.remainder)):
            found.append(best)
    return sorted(found, key=lambda a: (-a.score, a.word.box[1], a.word.box[0]))


def is_seal(word: Word) -> bool:
    text = normalize_text(word.text)
    return any(seal in text for seal in SEAL_WORDS)


def is_label(word: Word, labels: list[str]) -> bool:
    text = normalize_text(word.text)
    if any(seal in text for seal in SEAL_WORDS):
        return True
    return any(text.startswith(normalize_text(label)) for label in [*labels, *STOP_LABELS] if label)


def _v_overlap(a: Word, b: Word) -> float:
    top, bottom = max(a.box[1], b.box[1]), min(a.box[3], b.box[3])
    return max(0, bottom - top) / max(1, min(a.box[3] - a.box[1], b.box[3] - b.box[1]))


def _h_overlap(a: Word, b: Word) -> float:
    left, right = max(a.box[0], b.box[0]), min(a.box[2], b.box[2])
    return max(0, right - left) / max(1, min(a.box[2] - a.box[0], b.box[2] - b.box[0]))


def value_right(page: OcrPage, anchor: Anchor, labels: list[str], *, join: bool) -> ValueSpan | None:
    """The words to the right of the label on the same row, up to the next label.

    `join` keeps collecting fragments (digit boxes); otherwise only the nearest word is taken.
    """
    row_h = anchor.word.box[3] - anchor.word.box[1]
    row = [
        w
        for w in page.words
        if w is not anchor.word and w.box[0] >= anchor.word.box[2] - row_h * 0.5 and _v_overlap(w, anchor.word) >= 0.4
    ]
    row.sort(key=lambda w: w.box[0])
    picked: list[Word] = []
    for w in row:
        if is_seal(w):
            # a seal's own text sits over the cell; the value may continue behind it
            continue
        if is_label(w, labels):
            break
        if picked and w.box[0] - picked[-1].box[2] > 6 * row_h:
            break
        picked.append(w)
        if not join:
            break
    if not picked:
        return None
    return ValueSpan(text="".join(w.text for w in picked), words=tuple(picked))


def left_neighbour(page: OcrPage, word: Word) -> Word | None:
    """The nearest word to the left of `word` on its row."""
    row = [w for w in page.words if w is not word and w.box[2] <= word.box[0] + 4 and _v_overlap(w, word) >= 0.4]
    return max(row, key=lambda w: w.box[2], default=None)


def right_neighbour(page: OcrPage, word: Word) -> Word | None:
    row = [w for w in page.words if w is not word and w.box[0] >= word.box[2] - 4 and _v_overlap(w, word) >= 0.4]
    return min(row, key=lambda w: w.box[0], default=None)


def value_below(page: OcrPage, anchor: Anchor, labels: list[str]) -> ValueSpan | None:
    """The first word under the label, unless it is the value of a label printed on its own row."""
    row_h = anchor.word.box[3] - anchor.word.box[1]
    below = [
        w
        for w in page.words
        if w.box[1] >= anchor.word.box[3] - row_h * 0.3
        and w.box[1] - anchor.word.box[3] < 2.5 * row_h
        and _h_overlap(w, anchor.word) >= 0.3
        and not is_label(w, labels)
    ]
    # A word whose left neighbour is a label sits in that label's cell, not under ours.
    below = [w for w in below if (n := left_neighbour(page, w)) is None or not is_label(n, labels)]
    if not below:
        return None
    first = min(below, key=lambda w: w.box[1])
    return ValueSpan(text=first.text, words=(first,))
