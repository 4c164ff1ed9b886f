"""Read source files as page images, refusing bad files with a reason a person can act on.

The file's content decides its type, never its name: a PNG named .jpg is read as a PNG,
a text file named .jpg is quarantined as "not an image or PDF".
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, UnidentifiedImageError

from pipeline.errors import (
    CorruptFileError,
    DecompressionBombError,
    EmptyFileError,
    EncryptedPdfError,
    UnsupportedFileError,
)
from schemas.models import FileKind

log = logging.getLogger(__name__)

# A4 at 600 DPI is ~35 Mpx; anything far beyond is not a page scan but a bomb or a mistake.
MAX_PAGE_PIXELS = 120_000_000
# Longest plausible page side in PDF points (A0 is 3370 pt).
MAX_PDF_SIDE_PT = 3400.0
PDF_FALLBACK_DPI = 300.0

_MAGIC: list[tuple[bytes, FileKind]] = [
    (b"%PDF-", FileKind.PDF),
    (b"\xff\xd8\xff", FileKind.JPEG),
    (b"\x89PNG\r\n\x1a\n", FileKind.PNG),
    (b"II*\x00", FileKind.TIFF),
    (b"MM\x00*", FileKind.TIFF),
]


def sniff_kind(path: Path) -> FileKind:
    size = path.stat().st_size
    if size == 0:
        raise EmptyFileError(str(path), "file is empty (0 bytes)")
    with path.open("rb") as fh:
        head = fh.read(1024)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    # Some scanners prepend junk before %PDF; PDF readers accept it within the first KiB.
    if b"%PDF-" in head:
        return FileKind.PDF
    raise UnsupportedFileError(
        str(path),
        "content is not a PDF, JPEG, PNG or TIFF image (the file name's suffix does not make it one)",
    )


@contextmanager
def _pillow_guard(path: Path) -> Iterator[None]:
    """Turn Pillow's bomb warnings and decode failures into our typed errors."""
    old_limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise DecompressionBombError(str(path), f"image is too large to be a page scan ({e})") from e
    except UnidentifiedImageError as e:
        raise CorruptFileError(str(path), "image header is damaged or unreadable") from e
    except (OSError, SyntaxError, ValueError) as e:
        raise CorruptFileError(str(path), f"image data is damaged or truncated ({e})") from e
    finally:
        Image.MAX_IMAGE_PIXELS = old_limit


def _open_pdf(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as e:
        if pdfium_c.FPDF_GetLastError() == pdfium_c.FPDF_ERR_PASSWORD:
            raise EncryptedPdfError(
                str(path),
                "PDF is password-protected; ask the vendor for an unencrypted copy (qpdf --decrypt)",
            ) from e
        raise CorruptFileError(str(path), f"PDF cannot be parsed ({e})") from e


def _pdf_page_dpi(page: pdfium.PdfPage) -> float:
    """The resolution of the scan inside a PDF page: its largest image's pixels over the page size."""
    width_pt = page.get_width()
    best: tuple[int, float] | None = None
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        if not isinstance(obj, pdfium.PdfImage):
            continue
        px_w, px_h = obj.get_px_size()
        left, _bottom, right, _top = obj.get_bounds()
        drawn_pt = max(right - left, 1e-3)
        if best is None or px_w * px_h > best[0]:
            best = (px_w * px_h, px_w / drawn_pt * 72.0)
    if best is None or best[0] < 0.25 * (width_pt / 72.0 * 100) ** 2:
        # No scan image (vector page) or a tiny logo: render at the working resolution.
        return PDF_FALLBACK_DPI
    return float(min(max(best[1], 72.0), 1200.0))


def probe_file(path: Path) -> tuple[FileKind, int]:
    """Check that every page of a file can be read; return its kind and page count."""
    kind = sniff_kind(path)
    if kind is FileKind.PDF:
        pdf = _open_pdf(path)
        try:
            count = len(pdf)
            if count == 0:
                raise CorruptFileError(str(path), "PDF has no pages")
            for index in range(count):
                try:
                    page = pdf[index]
                except pdfium.PdfiumError as e:
                    raise CorruptFileError(str(path), f"PDF page {index + 1} cannot be read ({e})") from e
                w, h = page.get_size()
                if max(w, h) > MAX_PDF_SIDE_PT:
                    raise DecompressionBombError(
                        str(path), f"PDF page {index + 1} is {w:.0f}x{h:.0f} pt, larger than any archive form"
                    )
                dpi = _pdf_page_dpi(page)
                if (w / 72 * dpi) * (h / 72 * dpi) > MAX_PAGE_PIXELS:
                    raise DecompressionBombError(str(path), f"PDF page {index + 1} would render too large")
            return kind, count
        finally:
            pdf.close()
    with _pillow_guard(path), Image.open(path) as im:
        count = getattr(im, "n_frames", 1)
        for frame in range(count):
            im.seek(frame)
            im.load()
    return kind, count


def load_page(path: Path, kind: FileKind, page_no: int) -> tuple[np.ndarray, float | None]:
    """Return page `page_no` (1-based) as a BGR uint8 array (OpenCV's order) and the DPI the file claims.

    For PDFs the claim is the embedded scan's own resolution, rendered at that resolution so
    no pixel is invented here; resampling to 300 DPI is the preprocess stage's job.
    """
    if kind is FileKind.PDF:
        pdf = _open_pdf(path)
        try:
            page = pdf[page_no - 1]
            dpi = _pdf_page_dpi(page)
            bitmap = page.render(scale=dpi / 72.0, grayscale=False)
            # pdfium renders BGR(x) already.
            return np.ascontiguousarray(bitmap.to_numpy()[:, :, :3]), dpi
        except pdfium.PdfiumError as e:
            raise CorruptFileError(str(path), f"PDF page {page_no} cannot be rendered ({e})") from e
        finally:
            pdf.close()
    with _pillow_guard(path), Image.open(path) as im:
        im.seek(page_no - 1)
        dpi_tag = im.info.get("dpi")
        rgb = im.convert("RGB")
        tagged = float(dpi_tag[0]) if dpi_tag and dpi_tag[0] else None
        return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8)[:, :, ::-1]), tagged
