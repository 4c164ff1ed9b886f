"""Writing scanned pages the way scanners store them: image-only PDF, multi-page TIFF, single JPEG.

Everything written is a pure function of the pages and the fixed `scan_time`, so one seed always
gives byte-identical files (no "now" in PDF info dictionaries or TIFF tags).
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import img2pdf
from PIL import Image, TiffImagePlugin

_SOFTWARE = "dangan-synth"


def encode_page(img: Image.Image, dpi: int, quality: int) -> bytes:
    """One page as a scanner would embed it: JPEG for grey/colour, CCITT G4 for bitonal pages."""
    buf = io.BytesIO()
    if img.mode == "1":
        img.save(buf, format="TIFF", compression="group4", dpi=(dpi, dpi))
    else:
        img.save(buf, format="JPEG", quality=quality, dpi=(dpi, dpi), optimize=False)
    return buf.getvalue()


def write_pdf(path: Path, pages: list[bytes], scan_time: datetime) -> None:
    """An image-only PDF; each page's size comes from its image's DPI, so the DPI is true."""
    layout = img2pdf.get_layout_fun(None, None, None, None, None)
    data = img2pdf.convert(
        pages,
        layout_fun=layout,
        creationdate=scan_time,
        moddate=scan_time,
        producer=_SOFTWARE,
        creator=_SOFTWARE,
        # img2pdf's own writer: through pikepdf, QPDF would add a random /ID to every file
        engine=img2pdf.Engine.internal,
    )
    assert data is not None
    path.write_bytes(data)


def write_tiff(path: Path, pages: list[tuple[Image.Image, int]], scan_time: datetime) -> None:
    """A multi-page TIFF, each frame with its own resolution and compression (G4 or JPEG)."""
    with path.open("w+b") as fp, TiffImagePlugin.AppendingTiffWriter(fp, new=True) as tf:
        for img, dpi in pages:
            extra = {"compression": "group4"} if img.mode == "1" else {"compression": "jpeg", "quality": 85}
            tiffinfo = {305: _SOFTWARE, 306: scan_time.strftime("%Y:%m:%d %H:%M:%S")}
            img.save(tf, format="TIFF", dpi=(dpi, dpi), tiffinfo=tiffinfo, **extra)
            tf.newFrame()


def write_jpeg(path: Path, img: Image.Image, dpi: int, quality: int) -> None:
    img = img.convert("L") if img.mode == "1" else img
    img.save(path, format="JPEG", quality=quality, dpi=(dpi, dpi), optimize=False)
