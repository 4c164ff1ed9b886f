"""Resolution: work out the real DPI of a page and bring it to the 300-DPI working resolution.

Scanner software often writes a default tag (72, 96) or none at all, and some vendors rescale after
scanning without updating it; the forms themselves are A4 (or close), so the pixel size tells the truth.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

log = logging.getLogger(__name__)

WORKING_DPI = 300.0
A4_INCHES = (210.0 / 25.4, 297.0 / 25.4)
_A4_ASPECT = A4_INCHES[1] / A4_INCHES[0]
_PLAUSIBLE_TAG = (100.0, 1200.0)
_COMMON_DPIS = (150.0, 200.0, 240.0, 300.0, 400.0, 600.0)
_TAG_AGREES = 0.15  # relative; trimmed or slightly oversize scans of A4 still agree within this
_A4_LIKE = 0.12  # relative aspect tolerance for treating the page as A4 (Letter, trimmed A4 …)


def a4_dpi(width_px: int, height_px: int) -> float | None:
    """DPI implied by the page being A4, snapped to a common scan resolution when within 4 %;
    None when the aspect ratio is too far from A4 to say."""
    short, long = sorted((width_px, height_px))
    if short <= 0 or abs(long / short / _A4_ASPECT - 1.0) > _A4_LIKE:
        return None
    estimate = float(np.sqrt((short / A4_INCHES[0]) * (long / A4_INCHES[1])))
    nearest = min(_COMMON_DPIS, key=lambda d: abs(d - estimate))
    return nearest if abs(nearest - estimate) / nearest <= 0.04 else estimate


def effective_dpi(width_px: int, height_px: int, tagged_dpi: float | None) -> float:
    """The DPI to believe: the tag when it is plausible and agrees with the A4 estimate, the A4 estimate
    when the tag is missing, implausible or disagrees, and the working DPI when neither can be trusted."""
    tag_ok = tagged_dpi is not None and _PLAUSIBLE_TAG[0] <= tagged_dpi <= _PLAUSIBLE_TAG[1]
    estimate = a4_dpi(width_px, height_px)
    if estimate is None:
        if tag_ok and tagged_dpi is not None:
            return float(tagged_dpi)
        log.warning(
            "page %dx%d is not A4-shaped and its DPI tag %s is unusable; assuming 300",
            width_px,
            height_px,
            tagged_dpi,
        )
        return WORKING_DPI
    if tag_ok and tagged_dpi is not None and abs(tagged_dpi - estimate) / estimate <= _TAG_AGREES:
        return float(tagged_dpi)
    if tagged_dpi is not None:
        log.info(
            "DPI tag %.0f disagrees with the A4 size of %dx%d; using %.1f",
            tagged_dpi,
            width_px,
            height_px,
            estimate,
        )
    return estimate


def normalize_dpi(img: np.ndarray, dpi: float) -> tuple[np.ndarray, float | None]:
    """(`img` resampled to 300 DPI, the source DPI when it was upsampled else None). Never modifies `img`."""
    if dpi <= 0:
        raise ValueError(f"DPI must be positive, got {dpi}")
    scale = WORKING_DPI / dpi
    if abs(scale - 1.0) < 0.01:
        return img.copy(), None
    h, w = img.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    # cubic keeps stroke edges sharp when enlarging; area averaging avoids aliasing when shrinking
    interpolation = cv2.INTER_CUBIC if scale > 1.0 else cv2.INTER_AREA
    return cv2.resize(img, size, interpolation=interpolation), (float(dpi) if scale > 1.0 else None)
