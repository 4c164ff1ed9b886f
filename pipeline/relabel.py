"""After a correction: the record's metadata, archive number and file name follow the corrected fields.

Numbers and names are otherwise kept for good (`pipeline.records`); here they change only when
what they are made of changed: a corrected year or form type moves the record to another
number series, a corrected person or title renames its file.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from pipeline.identity import archive_prefix, file_name_for, next_piece_numbers, record_year
from pipeline.records import build_records
from schemas.models import ArchiveRecord, BatchManifest, Document
from schemas.registry import Registry


def _name_base(name: str) -> str:
    # 2019-参保登记-ID-title-2.pdf and 2019-参保登记-ID-title.pdf share a base: the suffix only tells twins apart.
    stem = name.removesuffix(".pdf")
    head, _, tail = stem.rpartition("-")
    return head if tail.isdigit() and len(tail) < 3 and head else stem


def relabel(
    record: ArchiveRecord,
    doc: Document,
    all_archive_numbers: Iterable[str],
    taken_file_names: Iterable[str],
    registry: Registry,
    manifest: BatchManifest,
    scan_date: date,
) -> ArchiveRecord:
    """The record as the corrected document makes it: same id, maybe a new number and file name."""
    all_archive_numbers = list(all_archive_numbers)
    fresh = build_records([doc], {doc.doc_id: record}, all_archive_numbers, [], registry, manifest, scan_date)[0]
    fresh.record_id = record.record_id
    form_id = doc.classification.label if doc.classification else None
    item = registry.item_for_form(form_id) if form_id else None
    business_type = item.business_type if item else None
    year = record_year(fresh.form_date, manifest.year, scan_date)
    prefix = archive_prefix(year, business_type, manifest.volume_no or 1)
    numbers = [n for n in all_archive_numbers if n != record.archive_no]
    if record.archive_no.rpartition("-")[0] != prefix:
        fresh.archive_no = next_piece_numbers(prefix, numbers, 1)[0]
    taken = {n for n in taken_file_names if n != record.file_name}
    wanted = file_name_for(year, business_type, fresh.person_id, fresh.title, set())
    if record.file_name is None or _name_base(record.file_name) != _name_base(wanted):
        fresh.file_name = file_name_for(year, business_type, fresh.person_id, fresh.title, taken)
    return fresh
