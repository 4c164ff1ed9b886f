"""Crops of the working page images: a field's box, enlarged, beside its value; the whole page on demand."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from schemas.models import Box

# Context around a box: reviewers judge a value by the label and ruling next to it.
MARGIN_FRACTION = 0.35
MARGIN_MIN_PX = 24
CROP_HEIGHT_PX = 96  # shown at this height: 300 DPI text of ~40 px, enlarged about 1.6×
PAGE_WIDTH_PX = 1100


class ImageMissingError(Exception):
    pass


def _open(path: Path) -> Image.Image:
    if not path.is_file():
        raise ImageMissingError(f"the working page image {path.name} is missing")
    return Image.open(path)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=1)
    return out.getvalue()


def crop_png(page_image: Path, box: Box) -> bytes:
    """The box with a margin, scaled to CROP_HEIGHT_PX high (never more than 4× up)."""
    with _open(page_image) as img:
        x0, y0, x1, y1 = (int(v) for v in box)
        pad = max(MARGIN_MIN_PX, int((y1 - y0) * MARGIN_FRACTION))
        area = (max(0, x0 - pad), max(0, y0 - pad), min(img.width, x1 + pad), min(img.height, y1 + pad))
        crop = img.crop(area)
        scale = min(4.0, CROP_HEIGHT_PX / max(1, crop.height))
        size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
        return _png(crop.resize(size, Image.Resampling.LANCZOS))


def page_png(page_image: Path) -> bytes:
    """The whole page, scaled to PAGE_WIDTH_PX wide for the screen."""
    with _open(page_image) as img:
        scale = min(1.0, PAGE_WIDTH_PX / img.width)
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        return _png(img.resize(size, Image.Resampling.LANCZOS))
