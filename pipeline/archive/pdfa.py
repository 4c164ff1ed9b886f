"""One PDF/A-2b file per document: the 300-DPI page images with our OCR text laid invisibly on top.

Route: the stored page images become an image-only PDF (`image_pages` copies their compressed data in
as it is: JPEG for colour and grey pages, CCITT G4 for bitonal ones, see `page_encoding`; each page
sized so its image is exactly 300 DPI); `text_layer` lays the `OcrPage` results the OCR stage already
produced on each page in a glyphless font (each page is recognised once, never again here); the
archive metadata is written; pikepdf's PDF/A writer adds the sRGB output intent and the PDF/A-2b
declaration, saves, and validates the written bytes. No Ghostscript, no second image encoding, and
no CJK font to load and subset: OCRmyPDF did the same job in ~2 s for a one-page document.
The file appears under its final name only when complete (temporary file, fsync, rename).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

import pikepdf
import pikepdf.pdfa
from PIL import Image

from pipeline.archive.image_pages import image_pdf
from pipeline.archive.pdf_metadata import PdfMetadata, apply_metadata
from pipeline.archive.text_layer import add_text_layers
from pipeline.errors import ArchiveError
from pipeline.partial_files import NO_BATCH, commit, part_path
from pipeline.settings import ArchiveImageSettings
from schemas.models import OcrPage

log = logging.getLogger(__name__)

DPI = 300
PDFA_FLAVOUR = "2b"
CREATOR_TOOL = "Dangan (text layer from the pipeline's own OCR)"
_DPI_TOLERANCE = 0.5
_HASH_CHUNK = 1 << 20

__all__ = ["DPI", "PdfMetadata", "image_dpis", "sha256_file", "write_pdfa"]


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, the fixity value recorded for an archive file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def image_dpis(pdf: pikepdf.Pdf) -> list[tuple[float, float]]:
    """(x, y) resolution of each page's page-filling image: its pixels over the page size in inches."""
    result = []
    for page in pdf.pages:
        box = page.mediabox
        width_in = (float(box[2]) - float(box[0])) / 72.0
        height_in = (float(box[3]) - float(box[1])) / 72.0
        images = list(page.get_images().values())
        if len(images) != 1:
            raise ValueError(f"expected one image on the page, found {len(images)}")
        image = images[0]
        result.append((int(image.Width) / width_in, int(image.Height) / height_in))
    return result


def _fail(out_path: Path, reason: str) -> ArchiveError:
    return ArchiveError(f"{out_path}: {reason}")


def _check_inputs(pages: Sequence[tuple[Path, OcrPage]], out_path: Path) -> None:
    if not pages:
        raise _fail(out_path, "a document needs at least one page")
    for number, (image_path, ocr) in enumerate(pages, start=1):
        try:
            with Image.open(image_path) as im:
                size = im.size
        except (OSError, Image.DecompressionBombError) as e:
            raise _fail(out_path, f"page {number}: cannot read image {image_path}: {e}") from e
        # Boxes are in the OCR'd image's pixels; the renderer scales the layer to the page,
        # so only a different shape (another image's result) would misplace the text.
        if ocr.width <= 0 or ocr.height <= 0 or abs(size[0] / size[1] - ocr.width / ocr.height) > 0.01:
            raise _fail(
                out_path,
                f"page {number}: image {image_path} is {size[0]}x{size[1]} px but its OCR result "
                f"is for {ocr.width}x{ocr.height}; pass the OcrPage of this very image",
            )


def _assemble(
    pages: Sequence[tuple[Path, OcrPage]], meta: PdfMetadata, images: ArchiveImageSettings, work: Path, dest: Path
) -> None:
    with image_pdf([path for path, _ocr in pages], DPI, work, images) as pdf:
        for number, (x_dpi, y_dpi) in enumerate(image_dpis(pdf), start=1):
            if abs(x_dpi - DPI) > _DPI_TOLERANCE or abs(y_dpi - DPI) > _DPI_TOLERANCE:
                raise RuntimeError(f"page {number} image is {x_dpi:.1f}x{y_dpi:.1f} DPI, not {DPI}")
        add_text_layers(pdf, [ocr for _path, ocr in pages])
        apply_metadata(pdf, meta)
        with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
            xmp["xmp:CreatorTool"] = CREATOR_TOOL
        # Adds the sRGB output intent and the PDF/A declaration, writes, re-reads and raises
        # PdfaError unless the written bytes validate as PDF/A-2b.
        pikepdf.pdfa.save(pdf, dest, PDFA_FLAVOUR)


def write_pdfa(
    pages: Sequence[tuple[Path, OcrPage]],
    out_path: Path,
    meta: PdfMetadata,
    images: ArchiveImageSettings | None = None,
    batch_id: str = NO_BATCH,
) -> Path:
    """Write the document's pages as one PDF/A-2b file at `out_path` and return that path.

    `pages` pairs each 300-DPI working image with the OCR result of that image; the text
    layer is made from those results alone. A page image not already in its archival encoding
    is encoded as `images` says (default: the settings' defaults). `batch_id` tags the temporary file
    (`pipeline.partial_files`) so the batch's next run knows whose it is should a kill leave it behind.
    Raises ArchiveError (and leaves nothing under `out_path`, nor a temporary file beside it) when anything fails.
    """
    started = time.perf_counter()
    _check_inputs(pages, out_path)
    # Beside the target so the rename is atomic; hidden, never a name a reader looks for, and this process's own.
    tmp = part_path(out_path, batch_id)
    renamed = False
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="dangan-pdfa-") as work_dir:
            _assemble(pages, meta, images or ArchiveImageSettings(), Path(work_dir), tmp)
        commit(tmp, out_path)
        renamed = True
    except Exception as e:
        raise _fail(out_path, f"could not write PDF/A ({type(e).__name__}: {e})") from e
    finally:
        if not renamed:
            with suppress(OSError):  # the write's own error is the one to report
                tmp.unlink(missing_ok=True)
    log.info(
        "wrote PDF/A %s (%d pages, archive no %s) in %.2f s",
        out_path.name,
        len(pages),
        meta.archive_no,
        time.perf_counter() - started,
    )
    return out_path
