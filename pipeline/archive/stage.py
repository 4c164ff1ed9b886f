"""Stage 8b: one PDF/A-2b per record, named and numbered, with its fixity hash."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.archive.pdfa import PdfMetadata, sha256_file, write_pdfa
from pipeline.context import RunContext
from pipeline.identity import record_year
from schemas.models import ArchiveRecord, Document, PageResult

log = logging.getLogger(__name__)


def archive_document(ctx: RunContext, record: ArchiveRecord, doc: Document, pages: list[PageResult]) -> ArchiveRecord:
    """Write (or keep) the record's PDF/A file and return the record with its path and hash.

    A file that already exists with the recorded hash is kept: a resumed run does not redo it.
    """
    existing = Path(record.pdfa_path) if record.pdfa_path else None
    if existing is not None and record.sha256 and existing.exists() and sha256_file(existing) == record.sha256:
        return record
    assert record.file_name is not None, "records are named before they are archived"
    scan_date = record.scan_date
    year = (
        record_year(record.form_date, None, scan_date)
        if scan_date
        else (record.form_date.year if record.form_date else 0)
    )
    out = ctx.archive_pdf(year, record.file_name)
    in_doc = sorted(
        (p for p in pages if doc.first_page <= p.page.page_no <= doc.last_page), key=lambda p: p.page.page_no
    )
    meta = record_metadata(record, doc)
    write_pdfa([(Path(p.page.image_path), p.ocr) for p in in_doc], out, meta, ctx.archive_images, ctx.batch_id)
    return record.model_copy(update={"pdfa_path": str(out), "sha256": sha256_file(out)})


def record_metadata(record: ArchiveRecord, doc: Document) -> PdfMetadata:
    """What the record's PDF/A says about itself; written at archiving and again after a correction."""
    return PdfMetadata(
        title=record.title,
        archive_no=record.archive_no,
        record_id=record.record_id,
        form_date=record.form_date,
        subject=" / ".join(x for x in (record.category, record.insurance_type, record.business_step) if x),
        keywords=[k for k in (record.archive_no, record.title, record.retention) if k],
        source=doc.rel_path,
        doc_type=doc.classification.label if doc.classification else None,
    )
