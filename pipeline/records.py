"""Stage 8a: turn decided documents into archive records with numbers, names and retention.

Runs in one process (it reads and extends the numbering), before the PDF/A files are written
in parallel; a document that already has a record keeps its number and name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from pipeline.identity import (
    archive_prefix,
    file_name_for,
    next_piece_numbers,
    record_id_for,
    record_year,
)
from schemas.models import ArchiveRecord, BatchManifest, Document, FieldStatus
from schemas.registry import Registry, destroy_after

UNKNOWN_TITLE = "未识别材料"


def _field(doc: Document, key: str) -> str | None:
    for f in doc.fields:
        if f.key == key and f.normalized and f.status is not FieldStatus.MISSING:
            return f.normalized
    return None


def build_records(
    documents: Iterable[Document],
    existing: dict[str, ArchiveRecord],
    all_archive_numbers: Iterable[str],
    taken_file_names: Iterable[str],
    registry: Registry,
    manifest: BatchManifest,
    scan_date: date,
) -> list[ArchiveRecord]:
    """Records for `documents` in a deterministic order (file path, first page).

    `existing` maps doc_id to the record it already has: numbers and names are kept, while
    metadata that review may have corrected (person, date, title) is refreshed.
    """
    numbers = list(all_archive_numbers)
    taken = set(taken_file_names)
    pending: dict[str, list[tuple[Document, ArchiveRecord]]] = defaultdict(list)
    out: list[ArchiveRecord] = []
    volume = manifest.volume_no or 1
    for doc in sorted(documents, key=lambda d: (d.rel_path, d.first_page)):
        form_id = doc.classification.label if doc.classification else None
        item = registry.item_for_form(form_id) if form_id else None
        form_date_text = _field(doc, "form_date")
        form_date = date.fromisoformat(form_date_text) if form_date_text else None
        year = record_year(form_date, manifest.year, scan_date)
        person = _field(doc, "id_number") or _field(doc, "unit_code")
        title = doc.form_title or UNKNOWN_TITLE
        retention = registry.retention_for_form(form_id) if form_id else None
        prior = existing.get(doc.doc_id)
        record = ArchiveRecord(
            record_id=record_id_for(doc.doc_id),
            doc_id=doc.doc_id,
            archive_no=prior.archive_no if prior else "",
            person_id=person,
            title=title,
            form_date=form_date,
            scan_date=manifest.scan_date or scan_date,
            scanner=manifest.operator,
            handler=manifest.handler,
            remarks=prior.remarks if prior else None,
            category=item.category if item else None,
            insurance_type=item.insurance_type if item else None,
            business_step=item.business_step if item else None,
            retention=retention,
            destroy_after=destroy_after(retention, form_date or date(year, 12, 31)) if retention else None,
            pdfa_path=prior.pdfa_path if prior else None,
            file_name=prior.file_name if prior else None,
            sha256=prior.sha256 if prior else None,
        )
        if record.file_name is None:
            record.file_name = file_name_for(year, item.business_type if item else None, person, title, taken)
            taken.add(record.file_name)
        if prior is None:
            pending[archive_prefix(year, item.business_type if item else None, volume)].append((doc, record))
        out.append(record)
    for prefix, group in sorted(pending.items()):
        for (_doc, record), number in zip(group, next_piece_numbers(prefix, numbers, len(group)), strict=True):
            record.archive_no = number
            numbers.append(number)
    return out
