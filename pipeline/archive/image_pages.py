"""Image-only PDF pages at exactly 300 DPI, the PNG data embedded as it is on disk.

A PNG's IDAT stream is already what a PDF Flate image with the PNG predictor holds, so 8-bit grey
or RGB PNGs (what the preprocess stage writes) are copied byte for byte: no decode, no re-encode,
no loss. img2pdf did the same job but decoded every page in full to look for EXIF data first,
which was 85 % of the PDF/A time. Anything else (alpha, palette, 16-bit, interlaced, not a PNG)
is first flattened by Pillow to an 8-bit grey or RGB PNG in a scratch folder.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import pikepdf
from pikepdf import Array, Dictionary, Name
from PIL import Image

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {0: (Name.DeviceGray, 1), 2: (Name.DeviceRGB, 3)}
IMAGE_RESOURCE = Name("/Im0")


class PngData(NamedTuple):
    width: int
    height: int
    colour_space: Name
    colours: int
    idat: bytes


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


def _flattened(path: Path, scratch: Path, number: int) -> Path:
    """An 8-bit grey or RGB PNG copy of any image Pillow reads."""
    with Image.open(path) as im:
        target = "L" if im.mode in ("1", "I;16", "I", "LA", "L") else "RGB"
        copy = scratch / f"page-{number:04d}.png"
        im.convert(target).save(copy)
        return copy


def image_pdf(paths: Sequence[Path], dpi: float, scratch: Path) -> pikepdf.Pdf:
    """A new PDF with one page per image, each page sized so its image is exactly `dpi`."""
    pdf = pikepdf.new()
    for number, path in enumerate(paths, start=1):
        png = read_png(path)
        if png is None:
            png = read_png(_flattened(path, scratch, number))
            if png is None:
                raise ValueError(f"{path}: could not be turned into an 8-bit PNG")
        image = pdf.make_stream(
            png.idat,
            Type=Name.XObject,
            Subtype=Name.Image,
            Width=png.width,
            Height=png.height,
            ColorSpace=png.colour_space,
            BitsPerComponent=8,
            Filter=Name.FlateDecode,
            DecodeParms=Dictionary(Predictor=15, Colors=png.colours, BitsPerComponent=8, Columns=png.width),
        )
        width_pt, height_pt = png.width * 72.0 / dpi, png.height * 72.0 / dpi
        content = b"q %.4f 0 0 %.4f 0 0 cm /%s Do Q\n" % (width_pt, height_pt, str(IMAGE_RESOURCE)[1:].encode())
        page = Dictionary(
            Type=Name.Page,
            MediaBox=Array([0, 0, width_pt, height_pt]),
            Resources=Dictionary(XObject=Dictionary({str(IMAGE_RESOURCE): image})),
            Contents=pdf.make_stream(content),
        )
        pdf.pages.append(pikepdf.Page(page))
    return pdf
