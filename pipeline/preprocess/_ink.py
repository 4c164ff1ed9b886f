"""Shared low-level helpers: a small binarised copy of a page for fast analysis."""

from __future__ import annotations

import cv2
import numpy as np


def grey_of(img: np.ndarray) -> np.ndarray:
    """Grey from the red channel for colour pages: red seals and stamps vanish, black print stays."""
    if img.ndim == 2:
        return img
    return np.ascontiguousarray(img[:, :, 2])


# The last page shrunk: the blank check and both orientation checks analyse the same page at the same
# size, and shrinking a 300-DPI page costs ~25 ms. Holding the page itself keeps its id from being reused.
_last_small: tuple[np.ndarray, int, np.ndarray, float] | None = None


def small_grey(img: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """(grey copy shrunk so its longer side is at most `max_side`, the scale used); do not modify it."""
    global _last_small
    last = _last_small
    if last is not None and last[0] is img and last[1] == max_side:
        return last[2], last[3]
    grey = grey_of(img)
    h, w = grey.shape
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        grey = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    _last_small = (img, max_side, grey, scale)
    return grey, scale


def small_ink(img: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """(binary ink mask 0/1 of a copy shrunk so its longer side is at most `max_side`, the scale used)."""
    grey, scale = small_grey(img, max_side)
    _, ink = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    # a near-white page has no real Otsu split; anything not clearly dark is paper
    ink[grey > 200] = 0  # on the mask: `grey` may be the shared copy
    return ink, scale
