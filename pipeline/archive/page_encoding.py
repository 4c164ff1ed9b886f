"""The archival encoding of a corrected page: what the PDF/A holds for it, chosen by the page's colour mode.

A 300-DPI page stored losslessly costs ~8 times what it cost as scanned. So a bitonal page (a scan
that was black and white, every pixel black or white but for the edges deskewing blurred) is stored
as CCITT G4, 1 bit a pixel, which loses nothing a bitonal scan had; a grey page as grey JPEG; a
colour page (red seals and headings: DA/T 31 keeps colour where it is) as colour JPEG. The qualities
are settings (`ArchiveImageSettings`), measured with `bench/archive_size.py` by reading the
archived pages again. The page worker encodes the page once, while the pixels are in memory, and
the PDF/A embeds those bytes as they are.
"""

from __future__ import annotations

import io
from typing import Literal, NamedTuple

import cv2
import numpy as np
from PIL import Image, TiffImagePlugin

from pipeline.settings import ArchiveImageSettings

ColourMode = Literal["colour", "grey", "bitonal"]

_ROWS_PER_STRIP = TiffImagePlugin.ROWSPERSTRIP
_SAMPLE_STEP = 2  # every other pixel each way: a quarter of the page says which mode it is

# A grey scan rendered or decoded as BGR has its three channels equal but for JPEG's rounding; stored as
# one channel, the working copy (and the PDF/A that embeds it) holds the same pixels at a third of the size.
# A colour scan, a red seal or a tinted paper, keeps its colour.
_GREY_SPREAD = 4
_COLOUR_SHARE = 0.0005


class EncodedPage(NamedTuple):
    mode: ColourMode
    suffix: str  # the file name suffix the bytes are stored under
    data: bytes


def grey_if_grey(image: np.ndarray) -> np.ndarray:
    """`image` as one channel when its colour channels agree everywhere (a grey or bitonal scan)."""
    if image.ndim != 3:
        return image
    # OpenCV's saturating uint8 arithmetic: a tenth of the time numpy took in int16 (~3 ms a page)
    b, g, r = cv2.split(np.ascontiguousarray(image[::4, ::4]))
    spread = cv2.subtract(cv2.max(b, cv2.max(g, r)), cv2.min(b, cv2.min(g, r)))
    if np.count_nonzero(spread > _GREY_SPREAD) > _COLOUR_SHARE * spread.size:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def colour_mode(image: np.ndarray, settings: ArchiveImageSettings) -> ColourMode:
    """Colour for a three-channel image (the working copy of a grey scan already has one channel);
    bitonal when nearly every pixel of a one-channel image is pure black or white."""
    if image.ndim == 3:
        return "colour"
    sample = image[::_SAMPLE_STEP, ::_SAMPLE_STEP]
    extremes = np.count_nonzero((sample == 0) | (sample == 255))
    return "bitonal" if extremes >= settings.bitonal_share * sample.size else "grey"


def _jpeg(image: np.ndarray, quality: int, optimize: bool) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_OPTIMIZE, int(optimize)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def _png(image: np.ndarray) -> bytes:
    # Fast compression: zlib at the default level costs a third of the OCR time of the page.
    ok, buf = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise ValueError("PNG encoding failed")
    return buf.tobytes()


def g4_tiff(image: np.ndarray, threshold: int) -> bytes:
    """A one-strip CCITT G4 TIFF of a one-channel image cut at `threshold`: one strip, so the PDF can
    hold the strip's bytes as they are (strips of a G4 image cannot simply be joined)."""
    bits = Image.fromarray(np.where(image >= threshold, 255, 0).astype(np.uint8)).convert("1", dither=Image.Dither.NONE)
    buf = io.BytesIO()
    bits.save(buf, format="TIFF", compression="group4", tiffinfo={_ROWS_PER_STRIP: bits.height})
    return buf.getvalue()


def encode_page(image: np.ndarray, settings: ArchiveImageSettings) -> EncodedPage:
    """The page's archival bytes (`image` is the corrected working copy, BGR or one channel)."""
    mode = colour_mode(image, settings)
    if settings.lossless:
        return EncodedPage(mode, ".png", _png(image))
    if mode == "bitonal":
        return EncodedPage(mode, ".tif", g4_tiff(image, settings.bitonal_threshold))
    quality = settings.jpeg_quality_colour if mode == "colour" else settings.jpeg_quality_grey
    return EncodedPage(mode, ".jpg", _jpeg(image, quality, settings.jpeg_optimize))
