"""What follows a saved review: the record's metadata, number and name follow the corrected fields,
its PDF/A's metadata is rewritten (pages untouched) and the search index gets the new values."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from pipeline.archive.pdfa import sha256_file
from pipeline.archive.rewrite_metadata import rewrite_metadata
from pipeline.archive.stage import record_metadata
from pipeline.relabel import relabel
from pipeline.search import SearchDoc
from review.state import AppState
from schemas.models import ArchiveRecord, AuditEvent, Document
from schemas.registry import get_registry
from schemas.review_work import Correction, CorrectionKind

log = logging.getLogger(__name__)
# Fields that make up the archive number or the file name (year, person, form type).
IDENTITY_KEYS = frozenset({"form_date", "id_number", "unit_code"})


def after_review(state: AppState, doc: Document, corrections: list[Correction]) -> None:
    record = state.store.record_for_doc(doc.doc_id)
    if record is None:
        return  # not numbered yet: the pipeline's archive step builds the record from the reviewed fields
    batch = state.store.get_batch(doc.batch_id)
    if batch is None:
        return
    changed = {c.key for c in corrections if c.kind is CorrectionKind.CORRECTED}
    others = state.store.records() if changed & IDENTITY_KEYS else []
    fresh = relabel(
        record,
        doc,
        [r.archive_no for r in others] or [record.archive_no],
        [r.file_name for r in others if r.file_name],
        get_registry(),
        batch.manifest,
        record.scan_date or batch.created_at.date(),
    )
    if fresh.pdfa_path and fresh != record:
        old_path = Path(fresh.pdfa_path)
        if old_path.is_file():
            dest = old_path.with_name(fresh.file_name) if fresh.file_name else old_path
            if fresh.form_date and fresh.form_date.year != (record.form_date.year if record.form_date else None):
                dest = state.settings.home / "archive" / str(fresh.form_date.year) / (fresh.file_name or old_path.name)
            new_path = rewrite_metadata(old_path, record_metadata(fresh, doc), dest)
            fresh = fresh.model_copy(update={"pdfa_path": str(new_path), "sha256": sha256_file(new_path)})
    state.store.save_record(fresh)
    if (fresh.archive_no, fresh.file_name) != (record.archive_no, record.file_name):
        state.store.record_audit(
            AuditEvent(
                at=datetime.now(UTC),
                actor="review",
                action="relabel",
                record_id=record.record_id,
                doc_id=doc.doc_id,
                field="archive_no",
                old=f"{record.archive_no} {record.file_name}",
                new=f"{fresh.archive_no} {fresh.file_name}",
                why="archive number and file name follow corrected fields",
            )
        )
    index_record(state, fresh, doc)


def index_record(state: AppState, record: ArchiveRecord, doc: Document) -> None:
    """The record as it is now into the search index, with its document's fields and page text."""
    pages = [p for p in state.store.pages(doc.file_id) if doc.first_page <= p.page.page_no <= doc.last_page]
    state.search.index(
        [
            SearchDoc.from_record(
                record,
                form_id=doc.classification.label if doc.classification else None,
                status=doc.status,
                text="\n".join(p.ocr.text for p in sorted(pages, key=lambda p: p.page.page_no)),
                fields={f.key: f.normalized or f.value or "" for f in doc.fields},
            )
        ]
    )
