"""Vendor separator sheets: QR/barcode payloads (zxing-cpp) and Kodak patch codes (bar geometry).

zxing-cpp reads QR codes and linear barcodes but not patch codes, which carry no data: a patch code
is four parallel bars, wide or narrow, with narrow spaces between. The payload, the bar widths, the
patterns and which patches separate are registry data (schemas/registry/separator_sheets.yaml).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import zxingcpp

from schemas.registry import get_registry
from schemas.registry_models import SeparatorSpec

log = logging.getLogger(__name__)

_ANALYSIS_DPI = 150.0
_MIN_BAR_MM = 19.0  # Kodak's shortest readable patch
_MIN_FILL = 0.8  # a printed bar is a solid rectangle; text strokes and table rules are not
_MAX_SKEW_TAN = 0.06  # tan 3.4°: the scanner's skew is at most 3°, and deskew leaves far less
_SAME_RUN = 0.7  # bars of one patch overlap along their length by at least this share
_ZX_FORMATS = zxingcpp.barcode_formats_from_str("QRCode,Code128,Code39")


@dataclass(frozen=True)
class SeparatorMark:
    symbol: Literal["barcode", "patch"]
    text: str  # the barcode payload, or the patch name ("T", "2", "3")


@dataclass(frozen=True)
class _Bar:
    centre: float  # position across the bars (x for vertical bars)
    thickness: float  # mean, so a slightly skewed bar measures true
    along0: float  # extent along the bar
    along1: float

    @property
    def across0(self) -> float:
        return self.centre - self.thickness / 2

    @property
    def across1(self) -> float:
        return self.centre + self.thickness / 2


def _spec() -> SeparatorSpec:
    return get_registry().separator


def is_separator_payload(text: str, payload: str | None = None) -> bool:
    """Does a QR/barcode text mark a separator sheet (the registry's payload unless `payload` is given)?"""
    expected = payload if payload is not None else _spec().payload
    return text == expected or text.startswith(expected + "/")


def _bars(grey: np.ndarray, px_per_mm: float) -> tuple[list[_Bar], list[_Bar]]:
    """Solid, long, bar-thick ink strokes, split into vertical and horizontal ones."""
    _, ink = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    count, _labels, stats, centroids = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    spec = _spec()
    thin, thick = spec.patch_narrow_mm * 0.55 * px_per_mm, spec.patch_wide_mm * 1.5 * px_per_mm
    vertical: list[_Bar] = []
    horizontal: list[_Bar] = []
    for (x, y, w, h, area), (cx, cy) in zip(stats[1:count], centroids[1:count], strict=True):
        upright = h >= w
        bbox_across, along = (w, h) if upright else (h, w)
        if along < _MIN_BAR_MM * px_per_mm:
            continue
        thickness = area / along
        # a bar skewed by up to _MAX_SKEW_DEG widens its box by along·tan; anything wider is not a bar
        solid = bbox_across <= thickness / _MIN_FILL + along * _MAX_SKEW_TAN
        if not (thin <= thickness <= thick and solid):
            continue
        if upright:
            vertical.append(_Bar(float(cx), thickness, y, y + h))
        else:
            horizontal.append(_Bar(float(cy), thickness, x, x + w))
    return vertical, horizontal


def _same_run(a: _Bar, b: _Bar) -> bool:
    overlap = min(a.along1, b.along1) - max(a.along0, b.along0)
    return overlap >= _SAME_RUN * max(a.along1 - a.along0, b.along1 - b.along0)


def _patches(bars: list[_Bar], px_per_mm: float) -> list[str]:
    """Patch names of every group of four parallel bars with narrow spaces between them."""
    bars = sorted(bars, key=lambda b: b.centre)
    spec = _spec()
    narrow = spec.patch_narrow_mm
    space_lo, space_hi = narrow * 0.4 * px_per_mm, narrow * 1.8 * px_per_mm
    split = (narrow + spec.patch_wide_mm) / 2 * px_per_mm
    found: list[str] = []
    for i in range(len(bars) - 3):
        group = bars[i : i + 4]
        spaced = all(
            space_lo <= b.across0 - a.across1 <= space_hi and _same_run(a, b) for a, b in itertools.pairwise(group)
        )
        if not spaced:
            continue
        pattern = "".join("W" if b.thickness > split else "N" for b in group)
        if pattern in spec.patch_codes:
            found.append(spec.patch_codes[pattern])
    return found


def patch_codes(grey: np.ndarray, dpi: float = 300.0) -> list[str]:
    """Names of the patch codes printed on a page (either direction), in reading order."""
    scale = min(1.0, _ANALYSIS_DPI / dpi)
    if scale < 1.0:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    px_per_mm = dpi * scale / 25.4
    vertical, horizontal = _bars(grey, px_per_mm)
    return _patches(vertical, px_per_mm) + _patches(horizontal, px_per_mm)


def read_separator(grey: np.ndarray, dpi: float = 300.0, payload: str | None = None) -> SeparatorMark | None:
    """The separator mark on a greyscale page image, or None for an ordinary page.

    A QR code or barcode counts only with the separator payload: forms may print their own codes.
    """
    for code in zxingcpp.read_barcodes(grey, formats=_ZX_FORMATS):
        if is_separator_payload(code.text, payload):
            return SeparatorMark("barcode", code.text)
    for name in patch_codes(grey, dpi):
        if name in _spec().separating_patches:
            return SeparatorMark("patch", name)
    return None


def read_separator_file(path: str | Path, dpi: float = 300.0) -> SeparatorMark | None:
    grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if grey is None:
        log.warning("separator check: cannot read page image %s", path)
        return None
    return read_separator(grey, dpi)
