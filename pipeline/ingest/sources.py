"""Read source files as page images, refusing bad files with a reason a person can act on.

The file's content decides its type, never its name: a PNG named .jpg is read as a PNG, a ZIP
archive named .pdf is quarantined as "a ZIP archive, not a scan". Files are opened through
`open_in_batch` only, so no link is ever followed out of the batch folder.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, UnidentifiedImageError

from pipeline.errors import (
    CorruptFileError,
    DecompressionBombError,
    DegenerateFileError,
    EmptyFileError,
    EncryptedPdfError,
    UnsupportedFileError,
)
from pipeline.ingest.decode import to_bgr
from pipeline.ingest.names import name_text
from pipeline.ingest.pdf_content import active_content
from pipeline.ingest.rules import PageLimits, ingest_rules
from pipeline.ingest.safe_open import open_in_batch, split_path
from pipeline.ingest.tiff_chain import count_tiff_pages
from schemas.models import FileKind

log = logging.getLogger(__name__)

PDF_FALLBACK_DPI = 300.0
_MM_PER_INCH = 25.4

_MAGIC: list[tuple[bytes, FileKind]] = [
    (b"%PDF-", FileKind.PDF),
    (b"\xff\xd8\xff", FileKind.JPEG),
    (b"\x89PNG\r\n\x1a\n", FileKind.PNG),
    (b"II*\x00", FileKind.TIFF),
    (b"MM\x00*", FileKind.TIFF),
    (b"II+\x00", FileKind.TIFF),
    (b"MM\x00+", FileKind.TIFF),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", FileKind.JP2),
    (b"\xff\x4f\xff\x51", FileKind.JP2),
]
# What else turns up under a scan's name, so the reason can say what the file is.
_NOT_SCANS: list[tuple[bytes, str]] = [
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"\x97JB2\r\n\x1a\n", "a JBIG2 image (no reader for it here; ask for TIFF G4 or PDF)"),
    (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document"),
    (b"\x7fELF", "a program (ELF)"),
    (b"MZ", "a Windows program"),
]
_GENERIC = "not a PDF, JPEG, PNG or TIFF image (nor JPEG 2000)"


class FileProbe(NamedTuple):
    kind: FileKind
    page_count: int
    note: str | None = None


@contextmanager
def _opened(path: Path, root: Path | None) -> Iterator[tuple[BinaryIO, str]]:
    """The file, opened without following links (within `root` when given), and its name as shown."""
    if root is None:
        folder, rel = split_path(path)
    else:
        folder, rel = root, os.fsencode(path.relative_to(root))
    with open_in_batch(folder, rel) as fh:
        yield fh, name_text(rel)


def sniff_kind(fh: BinaryIO, shown: str) -> FileKind:
    head = fh.read(1024)
    fh.seek(0)
    if not head:
        raise EmptyFileError(shown, "file is empty (0 bytes)")
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    # Some scanners prepend junk before %PDF; PDF readers accept it within the first KiB.
    if b"%PDF-" in head:
        return FileKind.PDF
    if head[4:12] == b"ftypjp2 " or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        what = "a WebP image" if head[:4] == b"RIFF" else "a JPEG 2000 file of an unknown layout"
        raise UnsupportedFileError(
            shown, f"content is {what}: {_GENERIC} (the file name's suffix does not make it one)"
        )
    for magic, what in _NOT_SCANS:
        if head.startswith(magic):
            raise UnsupportedFileError(
                shown, f"content is {what}: {_GENERIC} (the file name's suffix does not make it one)"
            )
    raise UnsupportedFileError(shown, f"content is {_GENERIC} (the file name's suffix does not make it one)")


@contextmanager
def _pillow_guard(shown: str, limits: PageLimits) -> Iterator[None]:
    """Turn Pillow's bomb warnings and decode failures into our typed errors."""
    old_limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = limits.max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise DecompressionBombError(shown, f"image is too large to be a page scan ({e})") from e
    except UnidentifiedImageError as e:
        raise CorruptFileError(shown, "image header is damaged or unreadable") from e
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise CorruptFileError(shown, f"image data is damaged or truncated ({e})") from e
    finally:
        Image.MAX_IMAGE_PIXELS = old_limit


def _check_page_size(shown: str, page_no: int, px: tuple[float, float], dpi: float | None, limits: PageLimits) -> None:
    """Refuse a page too small to be a form, in pixels or at the resolution the file declares."""
    width, height = px
    if width * height > limits.max_pixels:
        raise DecompressionBombError(shown, f"page {page_no} is {width:.0f}x{height:.0f} pixels, too large for a scan")
    if min(width, height) < limits.min_side_px:
        raise DegenerateFileError(
            shown,
            f"page {page_no} is {width:.0f}x{height:.0f} pixels, smaller than any form "
            f"(at least {limits.min_side_px} a side)",
        )
    if dpi and min(width, height) / dpi * _MM_PER_INCH < limits.min_side_mm:
        raise DegenerateFileError(
            shown,
            f"page {page_no} is {width / dpi * _MM_PER_INCH:.1f}x{height / dpi * _MM_PER_INCH:.1f} mm at the "
            f"{dpi:.0f} DPI it declares, smaller than any form (at least {limits.min_side_mm:g} mm a side)",
        )


def _open_pdf(fh: BinaryIO, shown: str) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(fh)
    except pdfium.PdfiumError as e:
        if pdfium_c.FPDF_GetLastError() == pdfium_c.FPDF_ERR_PASSWORD:
            raise EncryptedPdfError(
                shown, "PDF is password-protected; ask the vendor for an unencrypted copy (qpdf --decrypt)"
            ) from e
        raise CorruptFileError(shown, f"PDF cannot be parsed ({e})") from e


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


def _probe_pdf(fh: BinaryIO, shown: str, limits: PageLimits) -> FileProbe:
    pdf = _open_pdf(fh, shown)
    try:
        count = len(pdf)
        if count == 0:
            raise CorruptFileError(shown, "PDF has no pages")
        if count > limits.max_per_file:
            raise DegenerateFileError(shown, f"PDF has {count} pages, more than any file of one box holds")
        for index in range(count):
            try:
                page = pdf[index]
            except pdfium.PdfiumError as e:
                raise CorruptFileError(shown, f"PDF page {index + 1} cannot be read ({e})") from e
            w, h = page.get_size()
            if max(w, h) > limits.max_pdf_side_pt:
                raise DecompressionBombError(
                    shown, f"PDF page {index + 1} is {w:.0f}x{h:.0f} pt, larger than any archive form"
                )
            dpi = _pdf_page_dpi(page)
            _check_page_size(shown, index + 1, (w / 72 * dpi, h / 72 * dpi), dpi, limits)
    finally:
        pdf.close()
    fh.seek(0)
    return FileProbe(FileKind.PDF, count, active_content(fh))


def _probe_image(fh: BinaryIO, kind: FileKind, shown: str, limits: PageLimits) -> FileProbe:
    indexed = count_tiff_pages(fh, shown, limits.max_per_file) if kind is FileKind.TIFF else None
    fh.seek(0)
    with _pillow_guard(shown, limits), Image.open(fh) as im:
        count = getattr(im, "n_frames", 1)
        if indexed is not None and count != indexed:
            raise CorruptFileError(
                shown, f"TIFF page index is damaged: it lists {indexed} pages, the decoder finds {count}"
            )
        if count > limits.max_per_file:
            raise DegenerateFileError(shown, f"image file has {count} pages, more than any file of one box holds")
        for frame in range(count):
            im.seek(frame)
            dpi = im.info.get("dpi")
            _check_page_size(shown, frame + 1, im.size, float(dpi[0]) if dpi and dpi[0] else None, limits)
            im.load()
    return FileProbe(kind, count)


def inspect_file(path: Path, root: Path | None = None) -> FileProbe:
    """Check that every page of a file can be read and is a plausible page; return kind, pages and a note.

    `root` is the batch folder `path` lies in: nothing on the way from it is followed if it is a link.
    """
    limits = ingest_rules().pages
    with _opened(path, root) as (fh, shown):
        kind = sniff_kind(fh, shown)
        if kind is FileKind.PDF:
            return _probe_pdf(fh, shown, limits)
        return _probe_image(fh, kind, shown, limits)


def probe_file(path: Path, root: Path | None = None) -> tuple[FileKind, int]:
    """`inspect_file`'s kind and page count."""
    probe = inspect_file(path, root)
    return probe.kind, probe.page_count


def load_page(path: Path, kind: FileKind, page_no: int, root: Path | None = None) -> tuple[np.ndarray, float | None]:
    """Return page `page_no` (1-based) as a BGR uint8 array (OpenCV's order) and the DPI the file claims.

    For PDFs the claim is the embedded scan's own resolution, rendered at that resolution so
    no pixel is invented here; resampling to 300 DPI is the preprocess stage's job.
    """
    limits = ingest_rules().pages
    with _opened(path, root) as (fh, shown):
        if kind is FileKind.PDF:
            pdf = _open_pdf(fh, shown)
            try:
                page = pdf[page_no - 1]
                dpi = _pdf_page_dpi(page)
                bitmap = page.render(scale=dpi / 72.0, grayscale=False)
                # pdfium renders BGR(x) already.
                return np.ascontiguousarray(bitmap.to_numpy()[:, :, :3]), dpi
            except pdfium.PdfiumError as e:
                raise CorruptFileError(shown, f"PDF page {page_no} cannot be rendered ({e})") from e
            finally:
                pdf.close()
        with _pillow_guard(shown, limits), Image.open(fh) as im:
            im.seek(page_no - 1)
            dpi_tag = im.info.get("dpi")
            tagged = float(dpi_tag[0]) if dpi_tag and dpi_tag[0] else None
            return to_bgr(im, shown, page_no), tagged
