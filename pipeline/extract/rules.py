"""Vertical table rules on a page image, and the OCR words that cross them.

The recogniser reads a table's vertical rule beside a value as a glyph (丨3101…, 克州丨) and, where a
tight cell leaves no gap, runs two cells into one word (…吐尔逊|文化程度本科, 限公司|阿图什…). Both are
undone by geometry, not by a list of characters (1 and l are real ones): the rules are found on the
page image as ink runs taller than a text line (morphological opening), a word a rule crosses is
split where the rule is, and a thin glyph lying on the rule is the rule itself and is dropped.
"""

from __future__ import annotations

import itertools
import logging
import statistics
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from pipeline.ocr.digit_boxes import find_combs
from schemas.models import OcrPage, PageResult, Word
from schemas.registry import get_registry

log = logging.getLogger(__name__)

_SCALE = 2  # rules are found at half resolution: a quarter of the pixels, the same lines
_RULE_SPAN = 1.3  # a rule runs longer than this many text lines; no stroke of a character does
_OVERHANG = 0.25  # ... and on past the word's box, above or below it, by this share of its height
# Glyphs a ruled line is read as; only one lying on a detected rule is dropped.
_RULE_GLYPHS = "丨|lI1!｜[]【】"
_STROKES = frozenset(c for c in _RULE_GLYPHS if not (c.isascii() and c.isalnum()))
_EDGE = 0.9  # a rule this many text heights from a word's end is its cell's border


@dataclass(frozen=True, slots=True)
class Rule:
    x: float
    y0: float
    y1: float


def _line_height(page: OcrPage) -> int:
    heights = [w.box[3] - w.box[1] for w in page.words if w.box[3] > w.box[1]]
    return int(statistics.median(heights)) if heights else 40


def _inside(rule: Rule, box: tuple[int, int, int, int], pad: int = 4) -> bool:
    return box[0] - pad <= rule.x <= box[2] + pad and box[1] - pad <= rule.y0 and rule.y1 <= box[3] + pad


def vertical_rules(gray: np.ndarray, line_height: int) -> list[Rule]:
    """Vertical ruled lines of a greyscale page (full-resolution coordinates): straight ink runs longer
    than a text line that end on a horizontal rule (a table's grid), outside any comb of digit boxes
    (whose walls pipeline.ocr.digit_boxes knows; its digits are read as one line)."""
    small = cv2.resize(gray, (gray.shape[1] // _SCALE, gray.shape[0] // _SCALE), interpolation=cv2.INTER_AREA)
    ink = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)
    span = max(8, int(_RULE_SPAN * line_height / _SCALE))
    lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, span)))
    across = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * span, 1)))
    across = cv2.dilate(across, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    thickest = max(3, line_height // (4 * _SCALE))
    combs = [c.box for c in find_combs(gray)]
    rules: list[Rule] = []
    for x, y, w, h, _ in stats[1:count]:
        cx = x + w // 2
        if w > thickest or not (across[y, cx] or across[min(y + h - 1, across.shape[0] - 1), cx]):
            continue  # a thick stroke, or a straight stretch that is no part of a grid (a seal's rim)
        rule = Rule(x=(x + w / 2) * _SCALE, y0=float(y * _SCALE), y1=float((y + h) * _SCALE))
        if not any(_inside(rule, box) for box in combs):
            rules.append(rule)
    return rules


def _widths(text: str) -> list[float]:
    """Each character's share of a printed line: a Han or full-width one is square, the rest half."""
    return [1.0 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in text]


def _crossing(word: Word, rules: list[Rule]) -> list[float]:
    x0, y0, x1, y1 = word.box
    h = y1 - y0
    if len(word.text) > 1 and x1 - x0 < h:
        return []  # a line of text written top to bottom: its rules are not these
    out = []
    for r in rules:
        covers = min(r.y1, y1) - max(r.y0, y0) >= 0.7 * h
        overhangs = r.y0 <= y0 - _OVERHANG * h or r.y1 >= y1 + _OVERHANG * h
        if covers and overhangs and x0 - 0.3 * h <= r.x <= x1 + 0.3 * h:
            out.append(r.x)
    return sorted(out)


def _best_cut(starts: list[float], text: str, rx: float) -> int:
    """Where the rule at `rx` parts the text: the character boundary nearest to it by the characters'
    estimated widths, moved by one to where the script changes or a colon ends a label when one is
    there (a label and its value are printed in different sizes, so the estimate is off by one at times)."""
    k = min(range(1, len(text)), key=lambda j: abs(starts[j] - rx))
    printed = text.replace(" ", "")
    for label in _labels():
        end = len(label) + (1 if printed[len(label) : len(label) + 1] in (":", "：") else 0)
        if printed.startswith(label) and abs(end - k) <= 3 and " " not in text[:end]:
            return end  # the word starts with a printed label: the rule follows it
    for j in (k, k - 1, k + 1):
        if 0 < j < len(text) and (text[j - 1] in ":：" or _script(text[j - 1]) != _script(text[j])):
            return j
    return k


@lru_cache(maxsize=1)
def _labels() -> tuple[str, ...]:
    return tuple(sorted(get_registry().labels(), key=len, reverse=True))


def _script(ch: str) -> str:
    if "\u4e00" <= ch <= "\u9fff":
        return "han"
    return "digit" if ch.isdigit() else "other"


def split_word(word: Word, rule_xs: list[float]) -> list[Word]:
    """`word` cut where the rules at `rule_xs` cross it, a glyph the rule was read as dropped.

    A rule near the word's end is the border of its cell: a stroke glyph read there is dropped. A rule
    well inside the word parts two cells OCR ran together (…吐尔逊|文化程度本科)."""
    text = word.text
    if len(text) < 2 or not rule_xs:
        return [word]
    x0, y0, x1, y1 = word.box
    h = y1 - y0
    widths = _widths(text)
    unit = (x1 - x0) / sum(widths)
    starts = [x0 + unit * sum(widths[:i]) for i in range(len(text) + 1)]
    drop: set[int] = set()
    cuts: set[int] = set()
    for rx in rule_xs:
        if rx - x0 < _EDGE * h or x1 - rx < _EDGE * h:
            first = rx - x0 < x1 - rx
            i = 0 if first else len(text) - 1
            # A stroke glyph (丨 |) on the border is the rule. A 1, l or I there is kept: a value's own
            # first digit sits as close to its cell's border as the rule's glyph would, and a checked
            # value (ID, unit code) tells the two apart by its check, not by a guess here.
            if text[i] in _STROKES:
                drop.add(i)
                cuts.update((i, i + 1))
            continue
        # a stroke glyph (丨, |) inside the word on the rule is the rule; a digit or letter there is real
        i = next((k for k in range(len(text)) if starts[k + 1] >= rx), len(text) - 1)
        if text[i] in _STROKES and abs((starts[i] + starts[i + 1]) / 2 - rx) <= unit:
            drop.add(i)
            cuts.update((i, i + 1))
        else:
            cuts.add(_best_cut(starts, text, rx))
    pieces: list[Word] = []
    bounds = sorted({0, len(text), *cuts})
    for a, b in itertools.pairwise(bounds):
        # a stroke glyph just beside a cut made at a rule is that rule, read as a character
        keep = [
            k
            for k in range(a, b)
            if k not in drop and not (text[k] in _STROKES and ((k == a and a in cuts) or (k == b - 1 and b in cuts)))
        ]
        if not keep:
            continue
        piece = "".join(text[k] for k in keep).strip()
        if piece:
            box = (int(starts[keep[0]]), y0, round(starts[keep[-1] + 1]), y1)
            pieces.append(Word(text=piece, box=box, confidence=word.confidence))
    return pieces or [word]


def split_at_rules(page: OcrPage, rules: list[Rule]) -> OcrPage:
    words: list[Word] = []
    for word in page.words:
        words.extend(split_word(word, _crossing(word, rules)))
    return page if len(words) == len(page.words) and words == page.words else page.model_copy(update={"words": words})


def _grey(path: Path, width: int, height: int) -> np.ndarray | None:
    try:
        with Image.open(path) as im:
            grey = im.convert("L")
            if grey.size != (width, height):
                grey = grey.resize((width, height))
            return np.asarray(grey)
    except (OSError, UnidentifiedImageError) as e:
        log.warning("page image %s unreadable (%s): words kept as recognised", path, e)
        return None


def ruled_words(result: PageResult) -> OcrPage:
    """The page's OCR words, split at the vertical rules of its working image and cleared of the glyphs
    the rules were read as. Without a readable image the words stay as recognised."""
    page = result.ocr
    if not page.words:
        return page
    gray = _grey(Path(result.page.image_path), page.width, page.height)
    if gray is None:
        return page
    rules = vertical_rules(gray, _line_height(page))
    if not rules:
        return page
    return split_at_rules(page, rules)
