"""Printed pages to scanned files: rasterise at the page's resolution, scan, write like a scanner does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image

from synth.degrade import ScanParams, scan
from synth.html.render import rasterise
from synth.writers import encode_page, write_jpeg, write_pdf, write_tiff

# One Chromium run prints this many sheets. Fixed, not derived from the number of workers: the pixels of
# a sheet depend a little on which sheets share its PDF (font subsets), and a seed must give the same
# files however many workers run. Small enough that two runs print at once on two cores.
SHEETS_PER_PRINT = 48


@dataclass(frozen=True)
class PageJob:
    index: int | None  # the sheet's place in print order; None: a blank verso, made from the page before
    kind: str
    dpi: int
    params: ScanParams


@dataclass(frozen=True)
class FileJob:
    rel_path: str
    kind: str  # pdf / tiff / jpeg
    quality: int
    scan_time: datetime
    pages: tuple[PageJob, ...]


def blank_verso(previous: Image.Image | None, dpi: int, show_through: int) -> Image.Image:
    """The back of a sheet: paper, with the front showing through, mirrored, at `show_through` percent."""
    size = (round(210 / 25.4 * dpi), round(297 / 25.4 * dpi))
    if previous is None or show_through <= 0:
        return Image.new("RGB", size, (255, 255, 255))
    grey = np.asarray(previous.convert("L").resize(size))
    mirrored = grey[:, ::-1]
    faint = 255 - ((255 - mirrored.astype(np.uint16)) * show_through // 100).astype(np.uint8)
    soft: np.ndarray = cv2.GaussianBlur(faint, (0, 0), dpi / 100)
    return Image.fromarray(soft, "L").convert("RGB")


def render_file(out_dir: Path, job: FileJob, prints: list[Path], per_print: int) -> None:
    """Write one source file from the printed sheets (`per_print` sheets in each print but the last)."""
    docs = [pdfium.PdfDocument(p) for p in prints]
    path = out_dir / job.rel_path
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded: list[bytes] = []
    frames: list[tuple[Image.Image, int]] = []
    previous: Image.Image | None = None
    try:
        for page in job.pages:
            if page.index is None:
                # thin paper shows the front through; thick paper does not
                clean = blank_verso(previous, page.dpi, (0, 0, 2, 3, 4)[page.params.seed % 5])
            else:
                chunk, local = divmod(page.index, per_print)
                clean = rasterise(docs[chunk], local, page.dpi)
            previous = clean
            image = scan(clean, page.params)
            if job.kind == "pdf":
                encoded.append(encode_page(image, page.dpi, job.quality))
            elif job.kind == "tiff":
                frames.append((image, page.dpi))
            else:
                write_jpeg(path, image, page.dpi, job.quality)
    finally:
        for d in docs:
            d.close()
    if job.kind == "pdf":
        write_pdf(path, encoded, job.scan_time)
    elif job.kind == "tiff":
        write_tiff(path, frames, job.scan_time)
