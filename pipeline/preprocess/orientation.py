"""Orientation: which quarter turn makes the page upright.

Two cheap tests answer almost every page, and a whole-page oracle (Tesseract OSD, ~1-2 s a page) only
the rest:

1. Axis ({0, 180} vs {90, 270}): with ruled lines removed, the page's characters are merged along
   each axis in turn; along the true reading direction they join into long, text-high line blobs.
   On 218 generated pages (/tmp/acc40, /tmp/train1001) this was right on all, the weakest margin
   1.65x, where the old row/column projection test was right on 91.7 % (tables make columns sharp).
2. Up or down: the largest of those lines are cropped at full resolution and given to a 0/180 line
   classifier (RapidOCR's PP-OCR mobile cls, ~40 ms for 12 lines); the confidence-weighted vote
   decides. Only when a test is unsure does the oracle answer (measured: bench/orientation.py).

The models are the OCR engine's (`OcrEngine.detect_orientation`, pipeline/ocr/upright.py): this module
is geometry and the decision, and takes the classifier and the oracle as arguments.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import cv2
import numpy as np

from pipeline.preprocess._ink import grey_of, small_ink

log = logging.getLogger(__name__)

Rotation = Literal[0, 90, 180, 270]
UprightMethod = Literal["lines", "osd"]
LineClassifier = Callable[[list[np.ndarray]], list[tuple[str, float]]]
"""A 0/180 text-line classifier: (label "0" or "180", confidence) for each line crop."""
PageOracle = Callable[[np.ndarray], int | None]
"""A whole-page orientation oracle (Tesseract OSD): the clockwise turn, None when it cannot tell."""


class Orienter(Protocol):
    """What preprocessing asks which way up a page is: the OCR engine, which holds the models."""

    def detect_orientation(self, image: np.ndarray) -> Rotation:
        """Clockwise quarter turn that makes `image` upright (0 when it cannot be told)."""
        ...


_ANALYSIS_SIDE = 1000
_MIN_INK_PIXELS = 300
_MERGE_PX = 9  # at analysis scale (~2.7 mm of A4): joins the characters of a line, not two lines
_LINE_HEIGHT = (6, 30)  # at analysis scale: ~1.8-9 mm, from small print to titles
_LINE_ASPECT = 3  # a line blob is at least this many times longer than high
_AXIS_MARGIN = 1.6  # line length along one axis over the other needed to decide alone
_MAX_LINES = 12  # crops given to the 0/180 classifier
_PAD = 2  # analysis pixels around each crop: the classifier was trained on detector boxes
_VOTE_MARGIN = 0.5  # |mean signed confidence| needed to decide 0 vs 180 without OSD
_ROTATE_CODES = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def rotate(img: np.ndarray, clockwise: int) -> np.ndarray:
    """A copy of `img` turned clockwise by a multiple of 90 degrees."""
    turn = clockwise % 360
    return img.copy() if turn == 0 else cv2.rotate(img, _ROTATE_CODES[turn])


def _text_ink(img: np.ndarray) -> tuple[np.ndarray, float]:
    """(ink mask 0/1 at analysis scale with long ruled lines removed, scale)."""
    ink, scale = small_ink(img, _ANALYSIS_SIDE)
    h, w = ink.shape
    horizontal = cv2.getStructuringElement(cv2.MORPH_RECT, (max(w // 15, 5), 1))
    vertical = cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(h // 15, 5)))
    rules = cv2.bitwise_or(
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, horizontal), cv2.morphologyEx(ink, cv2.MORPH_OPEN, vertical)
    )
    return ink & (1 - rules), scale


def _line_boxes(text: np.ndarray) -> np.ndarray:
    """(x, y, w, h) of the blobs that look like horizontal text lines once characters are merged."""
    merged = cv2.dilate(text, cv2.getStructuringElement(cv2.MORPH_RECT, (_MERGE_PX, 1)))
    count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(merged, connectivity=8)
    boxes = stats[1:count, :4]
    heights, widths = boxes[:, 3], boxes[:, 2]
    keep = (heights >= _LINE_HEIGHT[0]) & (heights <= _LINE_HEIGHT[1]) & (widths >= _LINE_ASPECT * heights)
    return boxes[keep]


@dataclass(frozen=True)
class AxisScores:
    horizontal: float  # total length of line blobs when characters are merged left-right
    vertical: float  # the same, merged top-bottom

    @property
    def ratio(self) -> float:
        return (self.horizontal + 1.0) / (self.vertical + 1.0)


def axis_scores(img: np.ndarray) -> AxisScores:
    """How much of the page's text forms lines read left-right, against top-bottom."""
    text, _scale = _text_ink(img)
    if int(text.sum()) < _MIN_INK_PIXELS:
        return AxisScores(0.0, 0.0)
    across = float(_line_boxes(text)[:, 2].sum())
    down = float(_line_boxes(np.ascontiguousarray(text.T))[:, 2].sum())
    return AxisScores(across, down)


def text_is_horizontal(img: np.ndarray, margin: float = _AXIS_MARGIN) -> bool | None:
    """True for horizontal lines (page at 0/180), False for vertical (90/270), None when unclear."""
    scores = axis_scores(img)
    if scores.horizontal == 0.0 and scores.vertical == 0.0:
        return None
    if scores.ratio >= margin:
        return True
    if scores.ratio <= 1.0 / margin:
        return False
    return None


def line_crops(img: np.ndarray, max_lines: int = _MAX_LINES) -> list[np.ndarray]:
    """Full-resolution BGR crops of the longest horizontal text lines of `img`, longest first."""
    text, scale = _text_ink(img)
    boxes = _line_boxes(text)
    if boxes.size == 0:
        return []
    grey = grey_of(img)
    longest = boxes[np.argsort(-boxes[:, 2], kind="stable")[:max_lines]]
    crops = []
    for x, y, w, h in longest.tolist():
        x0, y0 = max(0, int((x - _PAD) / scale)), max(0, int((y - _PAD) / scale))
        x1, y1 = int((x + w + _PAD) / scale), int((y + h + _PAD) / scale)
        crops.append(cv2.cvtColor(np.ascontiguousarray(grey[y0:y1, x0:x1]), cv2.COLOR_GRAY2BGR))
    return crops


def upright_vote(img: np.ndarray, classify: LineClassifier) -> float:
    """Mean signed confidence of the line classifier over the page's longest lines, in [-1, 1]:
    positive when they read upright, negative when upside down, 0.0 when there are no lines."""
    crops = line_crops(img)
    if not crops:
        return 0.0
    results = classify(crops)
    return float(sum(score if label == "0" else -score for label, score in results) / len(results))


def detect_rotation(
    img: np.ndarray, classify: LineClassifier, oracle: PageOracle, method: UprightMethod = "lines"
) -> Rotation:
    """Clockwise quarter turn that makes the page upright (0 when it cannot be told: blank pages).

    "lines": the axis and 0/180 tests above, the oracle only when one of them is unsure. "osd": the
    oracle alone (the axis test only when it cannot tell), kept for comparison."""
    if method == "osd":
        turn = oracle(img)
        if turn is not None:
            return _as_rotation(turn)
        return 90 if text_is_horizontal(img) is False else 0
    horizontal = text_is_horizontal(img)
    if horizontal is None:
        turn = oracle(img)
        if turn is not None:
            log.debug("text axis unclear; OSD says %d", turn)
            return _as_rotation(turn)
        horizontal = axis_scores(img).ratio >= 1.0
    base = 0 if horizontal else 90
    vote = upright_vote(rotate(img, base) if base else img, classify)
    if abs(vote) < _VOTE_MARGIN:
        turn = oracle(img)
        log.debug("line classifier unsure (%.2f); OSD says %s", vote, turn)
        # OSD is trusted only on the axis already established; its axis errors were the common ones
        if turn is not None and (turn - base) % 180 == 0:
            return _as_rotation(turn)
    return _as_rotation(base + (0 if vote >= 0 else 180))


def _as_rotation(turn: int) -> Rotation:
    value = turn % 360
    if value == 90:
        return 90
    if value == 180:
        return 180
    if value == 270:
        return 270
    return 0
