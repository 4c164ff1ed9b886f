"""Rewrite a PDF/A's metadata after a correction, leaving its pages exactly as they were.

pikepdf rewrites the XMP packet and DocInfo and saves the same objects again: page content
streams and images are copied as they are, the PDF/A identification stays in the XMP.
"""

from __future__ import annotations

import os
from pathlib import Path

import pikepdf
import pikepdf.pdfa

from pipeline.archive.pdf_metadata import PdfMetadata, apply_metadata
from pipeline.archive.pdfa import PDFA_FLAVOUR
from pipeline.errors import ArchiveError


def rewrite_metadata(path: Path, meta: PdfMetadata, dest: Path | None = None) -> Path:
    """Write `meta` into the PDF at `path`, saved (atomically) at `dest` (default: in place); the old
    file is removed when `dest` is elsewhere. Returns where the file now is."""
    dest = dest or path
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part")
    try:
        with pikepdf.open(path) as pdf:
            apply_metadata(pdf, meta)
            # Re-declares PDF/A-2b and validates the written bytes, as when the file was first made.
            pikepdf.pdfa.save(pdf, tmp, PDFA_FLAVOUR)
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except Exception as e:
        tmp.unlink(missing_ok=True)
        raise ArchiveError(f"{path}: cannot rewrite the PDF/A metadata: {e}") from e
    if dest != path:
        path.unlink(missing_ok=True)
    return dest
