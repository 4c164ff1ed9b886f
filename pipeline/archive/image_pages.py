"""Image-only PDF pages at exactly 300 DPI, each page's stored image embedded as it is on disk.

The page worker already stored each corrected page in its archival encoding (see `page_encoding`):
a JPEG is what a PDF DCT image holds, and the one strip of a G4 TIFF is what a CCITT image holds,
so both are copied byte for byte: no decode, no re-encode, no second loss. An 8-bit grey or RGB
PNG's IDAT stream is what a Flate image with the PNG predictor holds; it is copied as it is when
the archive is set to be lossless, and otherwise (a page stored by an older run) encoded like a
new page. Anything else is decoded by Pillow first.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import pikepdf
from pikepdf import Array, Dictionary, Name
from PIL import Image, TiffImagePlugin

from pipeline.archive.page_encoding import encode_page, grey_if_grey
from pipeline.settings import ArchiveImageSettings

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {0: (Name.DeviceGray, 1), 2: (Name.DeviceRGB, 3)}
_JPEG_SPACES = {"L": Name.DeviceGray, "RGB": Name.DeviceRGB}
_G4 = 4
_MIN_IS_BLACK = 1
_FILL_MSB_FIRST = 1
IMAGE_RESOURCE = Name("/Im0")


class PngData(NamedTuple):
    width: int
    height: int
    colour_space: Name
    colours: int
    idat: bytes


class PageImage(NamedTuple):
    """The parts of a PDF image XObject: its compressed data and how to read it."""

    width: int
    height: int
    colour_space: Name
    bits: int
    filter: Name
    decode_parms: Dictionary
    data: bytes


def read_png(path: Path) -> PngData | None:
    """The IHDR facts and joined IDAT data of an 8-bit, non-interlaced grey or RGB PNG; None for
    any other file, which then needs converting."""
    data = path.read_bytes()
    if not data.startswith(_SIGNATURE):
        return None
    pos, header, idat = len(_SIGNATURE), None, []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        crc = data[pos + 8 + length : pos + 12 + length]
        if len(body) != length or len(crc) != 4 or zlib.crc32(kind + body) != struct.unpack(">I", crc)[0]:
            return None  # truncated or damaged: let Pillow report it
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"tRNS":
            return None  # transparency needs flattening
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None or not idat:
        return None
    width, height, depth, colour_type, _compression, _filter, interlace = header
    if depth != 8 or interlace != 0 or colour_type not in _COLOUR_TYPES:
        return None
    space, colours = _COLOUR_TYPES[colour_type]
    return PngData(width, height, space, colours, b"".join(idat))


def _png_image(path: Path) -> PageImage | None:
    png = read_png(path)
    if png is None:
        return None
    parms = Dictionary(Predictor=15, Colors=png.colours, BitsPerComponent=8, Columns=png.width)
    return PageImage(png.width, png.height, png.colour_space, 8, Name.FlateDecode, parms, png.idat)


def jpeg_image(path: Path) -> PageImage | None:
    """A grey or RGB JPEG as a DCT image; None for any other file. Only the header is read."""
    try:
        with Image.open(path) as im:
            if im.format != "JPEG" or im.mode not in _JPEG_SPACES:
                return None
            width, height, space = im.width, im.height, _JPEG_SPACES[im.mode]
    except (OSError, Image.DecompressionBombError):
        return None
    return PageImage(width, height, space, 8, Name.DCTDecode, Dictionary(), path.read_bytes())


def g4_image(path: Path) -> PageImage | None:
    """The one strip of a one-strip CCITT G4 TIFF as a CCITT image; None for any other file."""
    try:
        with Image.open(path) as im:
            if not isinstance(im, TiffImagePlugin.TiffImageFile) or im.n_frames != 1:
                return None
            tags = im.tag_v2
            offsets, counts = tags.get(TiffImagePlugin.STRIPOFFSETS), tags.get(TiffImagePlugin.STRIPBYTECOUNTS)
            if (
                tags.get(TiffImagePlugin.COMPRESSION) != _G4
                or tags.get(TiffImagePlugin.FILLORDER, _FILL_MSB_FIRST) != _FILL_MSB_FIRST
                or offsets is None
                or counts is None
                or len(offsets) != 1
            ):
                return None
            width, height = im.width, im.height
            black_is_1 = tags.get(TiffImagePlugin.PHOTOMETRIC_INTERPRETATION) == _MIN_IS_BLACK
    except (OSError, Image.DecompressionBombError):
        return None
    with path.open("rb") as fh:
        fh.seek(int(offsets[0]))
        data = fh.read(int(counts[0]))
    # The G4 code says "white run" for the TIFF's 0 bits; with min-is-black those are the black pixels.
    parms = Dictionary(K=-1, Columns=width, Rows=height, BlackIs1=black_is_1)
    return PageImage(width, height, Name.DeviceGray, 1, Name.CCITTFaxDecode, parms, data)


def _decoded(path: Path) -> np.ndarray:
    """Any image Pillow reads as 8-bit grey or BGR pixels."""
    with Image.open(path) as im:
        target = "L" if im.mode in ("1", "I;16", "I", "LA", "L") else "RGB"
        pixels = np.asarray(im.convert(target))
    return pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)


def _converted(path: Path, settings: ArchiveImageSettings, scratch: Path, number: int) -> PageImage:
    encoded = encode_page(grey_if_grey(_decoded(path)), settings)
    copy = scratch / f"page-{number:04d}{encoded.suffix}"
    copy.write_bytes(encoded.data)
    image = jpeg_image(copy) or g4_image(copy) or _png_image(copy)
    if image is None:
        raise ValueError(f"{path}: could not be encoded for the archive")
    return image


def page_image(path: Path, settings: ArchiveImageSettings, scratch: Path, number: int) -> PageImage:
    """The image of one page: the stored encoding when it is one a PDF holds as it is, else encoded now."""
    image = jpeg_image(path) or g4_image(path) or (_png_image(path) if settings.lossless else None)
    return image if image is not None else _converted(path, settings, scratch, number)


def image_pdf(paths: Sequence[Path], dpi: float, scratch: Path, settings: ArchiveImageSettings) -> pikepdf.Pdf:
    """A new PDF with one page per image, each page sized so its image is exactly `dpi`."""
    pdf = pikepdf.new()
    for number, path in enumerate(paths, start=1):
        img = page_image(path, settings, scratch, number)
        image = pdf.make_stream(
            img.data,
            Type=Name.XObject,
            Subtype=Name.Image,
            Width=img.width,
            Height=img.height,
            ColorSpace=img.colour_space,
            BitsPerComponent=img.bits,
            Filter=img.filter,
        )
        if img.decode_parms:
            image.DecodeParms = img.decode_parms
        width_pt, height_pt = img.width * 72.0 / dpi, img.height * 72.0 / dpi
        content = b"q %.4f 0 0 %.4f 0 0 cm /%s Do Q\n" % (width_pt, height_pt, str(IMAGE_RESOURCE)[1:].encode())
        page = Dictionary(
            Type=Name.Page,
            MediaBox=Array([0, 0, width_pt, height_pt]),
            Resources=Dictionary(XObject=Dictionary({str(IMAGE_RESOURCE): image})),
            Contents=pdf.make_stream(content),
        )
        pdf.pages.append(pikepdf.Page(page))
    return pdf
