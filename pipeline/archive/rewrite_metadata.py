"""Rewrite a PDF/A's metadata after a correction, leaving its pages exactly as they were.

pikepdf rewrites the XMP packet and DocInfo and saves the same objects again: page content
streams and images are copied as they are, the PDF/A identification stays in the XMP.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

import pikepdf
import pikepdf.pdfa

from pipeline.archive.pdf_metadata import PdfMetadata, apply_metadata
from pipeline.archive.pdfa import PDFA_FLAVOUR
from pipeline.errors import ArchiveError
from pipeline.partial_files import NO_BATCH, commit, part_path


def rewrite_metadata(path: Path, meta: PdfMetadata, dest: Path | None = None) -> Path:
    """Write `meta` into the PDF at `path`, saved (atomically) at `dest` (default: in place); the old
    file is removed when `dest` is elsewhere. Returns where the file now is."""
    dest = dest or path
    dest.parent.mkdir(parents=True, exist_ok=True)
    # This process's own temporary name: a batch run resuming meanwhile leaves it alone while we live.
    tmp = part_path(dest, NO_BATCH)
    try:
        with pikepdf.open(path) as pdf:
            apply_metadata(pdf, meta)
            # Re-declares PDF/A-2b and validates the written bytes, as when the file was first made.
            pikepdf.pdfa.save(pdf, tmp, PDFA_FLAVOUR)
        commit(tmp, dest)
    except Exception as e:
        with suppress(OSError):  # the rewrite's own error is the one to report
            tmp.unlink(missing_ok=True)
        raise ArchiveError(f"{path}: cannot rewrite the PDF/A metadata: {e}") from e
    if dest != path:
        path.unlink(missing_ok=True)
    return dest
