"""Page preprocessing: resolution to 300 DPI, orientation, deskew and the blank-page flag."""

from __future__ import annotations

import logging

import numpy as np

from pipeline.preprocess.blank import ink_fraction, is_blank
from pipeline.preprocess.deskew import deskew, estimate_skew
from pipeline.preprocess.dpi import WORKING_DPI, a4_dpi, effective_dpi, normalize_dpi
from pipeline.preprocess.orientation import Orienter, detect_rotation, rotate, text_is_horizontal
from schemas.models import PreprocessInfo

log = logging.getLogger(__name__)

__all__ = [
    "WORKING_DPI",
    "Orienter",
    "a4_dpi",
    "deskew",
    "detect_rotation",
    "effective_dpi",
    "estimate_skew",
    "ink_fraction",
    "is_blank",
    "normalize_dpi",
    "preprocess_page",
    "rotate",
    "text_is_horizontal",
]


def preprocess_page(img: np.ndarray, source_dpi: float, orienter: Orienter) -> tuple[np.ndarray, PreprocessInfo]:
    """The 300-DPI, upright, level working image of a page and what was done to it.

    `source_dpi` is the DPI to believe (see `effective_dpi`); `orienter` (the OCR engine) says which way
    is up. Steps run DPI -> orientation -> deskew -> blank flag; `img` itself is never modified. A blank
    page is neither turned nor deskewed: there is nothing on it to tell which way is up, and OSD would
    only spend time saying so."""
    work, upsampled_from = normalize_dpi(img, source_dpi)
    blank = is_blank(work)
    rotation = 0 if blank else orienter.detect_orientation(work)
    if rotation:
        work = rotate(work, rotation)
    angle = 0.0 if blank else estimate_skew(work)
    if angle:
        work = deskew(work, angle)
    info = PreprocessInfo(rotation=rotation, skew_degrees=angle, is_blank=blank, upsampled_from_dpi=upsampled_from)
    log.debug(
        "preprocessed: rotation %d, skew %.2f, blank %s, upsampled from %s",
        rotation,
        angle,
        blank,
        upsampled_from,
    )
    return work, info
