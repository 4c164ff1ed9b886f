"""Blank pages: versos and empty sheets that join a document but carry nothing to read."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.preprocess._ink import small_grey

_ANALYSIS_SIDE = 1000
_BORDER = 0.05  # of each side: scanner-bed shadow, punch holes and page edges live here
_INK_LEVEL = 150  # darker than this is ink; faint show-through from the verso stays above it
_MIN_BLOB = 6  # pixels at analysis scale (~1 mm at 300 DPI); dust and specks are smaller
BLANK_INK_FRACTION = 0.0001


def ink_fraction(img: np.ndarray) -> float:
    """Share of the page interior covered by real ink: border cropped, specks and show-through ignored."""
    grey, _scale = small_grey(img, _ANALYSIS_SIDE)
    h, w = grey.shape
    dy, dx = round(h * _BORDER), round(w * _BORDER)
    inner = grey[dy : h - dy, dx : w - dx]
    if inner.size == 0:
        return 0.0
    ink = (inner < _INK_LEVEL).astype(np.uint8)
    count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(ink, connectivity=8)
    areas = stats[1:count, cv2.CC_STAT_AREA]
    return float(areas[areas >= _MIN_BLOB].sum()) / inner.size


def is_blank(img: np.ndarray, threshold: float = BLANK_INK_FRACTION) -> bool:
    """True when the page holds no meaningful ink. Tolerant of scanner noise, dark edges and faint
    show-through; a page with even one short line of text is not blank."""
    return ink_fraction(img) < threshold
