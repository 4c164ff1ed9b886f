"""A decoded page image to 8-bit BGR by its real depth: nothing clipped, nothing dropped.

16-bit grey is scaled (not clipped), transparency is composited onto white (paper) instead of being
dropped onto black, CMYK is converted, and the EXIF orientation a camera wrote is applied. A page that
held detail and comes out as one flat colour has lost it in decoding: that is refused with the reason,
never passed on to be judged a blank page.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

from pipeline.errors import CorruptFileError

_WIDE_GREY = ("I;16", "I;16B", "I;16L", "I;16N", "I")
_ALPHA = ("RGBA", "RGBa", "LA", "La", "PA")


def _wide_to_grey(im: Image.Image) -> Image.Image:
    arr = np.asarray(im)
    if im.mode == "F":
        top = 1.0 if float(arr.max(initial=0.0)) <= 1.0 else float(arr.max())
    else:
        # 16 bits is what every scanner that writes wide grey uses; a 32-bit integer image is scaled
        # by its own largest value rather than by 2**32 (which would leave it black).
        top = 65535.0 if im.mode != "I" or int(arr.max(initial=0)) <= 65535 else float(arr.max())
    scaled = np.clip(np.rint(arr.astype(np.float64) * (255.0 / top)), 0, 255).astype(np.uint8)
    return Image.fromarray(scaled, mode="L")


def _onto_white(im: Image.Image) -> Image.Image:
    rgba = im.convert("RGBA")
    paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(paper, rgba).convert("RGB")


def _has_transparency(im: Image.Image) -> bool:
    return im.mode in _ALPHA or "transparency" in im.info


def to_rgb(im: Image.Image) -> Image.Image:
    """The page as the paper looked: RGB, 8 bits a channel, upright."""
    im = ImageOps.exif_transpose(im) or im
    if im.mode in _WIDE_GREY or im.mode == "F":
        return _wide_to_grey(im).convert("RGB")
    if _has_transparency(im):
        return _onto_white(im)
    return im.convert("RGB")


def to_bgr(im: Image.Image, shown: str, page_no: int) -> np.ndarray:
    """`to_rgb` as a contiguous BGR array (OpenCV's order), checked to have kept what the file held."""
    if im.width == 0 or im.height == 0:
        raise CorruptFileError(shown, f"page {page_no} has no pixels")
    rgb = to_rgb(im)
    out = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8)[:, :, ::-1])
    if int(out.max()) == int(out.min()):
        raw = np.asarray(im)
        if raw.size and raw.max() != raw.min():
            raise CorruptFileError(
                shown,
                f"page {page_no} ({im.mode}) decodes to one flat colour although the file holds detail; "
                "refused rather than archived as a blank page",
            )
    return out
