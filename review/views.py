"""What a page may show of a record to one viewer: ID numbers masked for roles that do not need them."""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel

from pipeline.search.base import mask_id
from schemas.access import Can, Viewer
from schemas.models import ArchiveRecord

_ID_IN_TEXT = re.compile(r"\d{17}[\dXx]")


def shown_id(viewer: Viewer, value: str | None) -> str:
    if not value:
        return ""
    return value if viewer.can(Can.FULL_ID) else mask_id(value)


def shown_text(viewer: Viewer, text: str) -> str:
    """Free text (a snippet, an OCR line) with every ID number in it masked for such roles."""
    if viewer.can(Can.FULL_ID):
        return text
    return _ID_IN_TEXT.sub(lambda m: mask_id(m.group(0)), text)


class RecordView(BaseModel):
    record_id: str
    archive_no: str
    title: str
    person_id: str
    person_key: str | None
    form_date: date | None
    retention: str | None
    file_name: str | None
    has_pdf: bool
    snippet: str = ""


def record_view(viewer: Viewer, record: ArchiveRecord, snippet: str = "") -> RecordView:
    return RecordView(
        record_id=record.record_id,
        archive_no=record.archive_no,
        title=record.title,
        person_id=shown_id(viewer, record.person_id),
        # Links to a person's whole record carry the number only for roles that may see it.
        person_key=record.person_id if viewer.can(Can.FULL_ID) else None,
        form_date=record.form_date,
        retention=record.retention.value if record.retention else None,
        file_name=shown_text(viewer, record.file_name) if record.file_name else None,
        has_pdf=bool(record.pdfa_path),
        snippet=shown_text(viewer, snippet),
    )
