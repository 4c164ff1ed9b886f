"""Archive records as one person may see them: the role rules are WHERE clauses, not template ifs.

An insured person's queries carry `person_id = <their own number>`; a role without the right to
view records gets `false`. Nothing outside the scope is ever read from the database, so a page,
a search snippet or a download cannot show it by mistake.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Engine, false, select, true

from pipeline.store import rows
from pipeline.store.engine import transaction
from pipeline.store.tables import DocumentRow, FieldRow, RecordRow
from schemas.access import Can, Role, Viewer
from schemas.models import ArchiveRecord, Document


def record_scope(viewer: Viewer) -> ColumnElement[bool]:
    if not viewer.can(Can.VIEW_RECORD):
        return false()
    if viewer.role is Role.INSURED:
        own = viewer.user.id_number
        return RecordRow.person_id == own if own else false()
    return true()


class RecordAccess:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def visible(self, viewer: Viewer, record_ids: Sequence[str]) -> list[ArchiveRecord]:
        """Those of `record_ids` the viewer may see, in the order given."""
        if not record_ids:
            return []
        with transaction(self._engine, "read records", write=False) as s:
            stmt = select(RecordRow).where(RecordRow.record_id.in_(list(record_ids)), record_scope(viewer))
            found = {r.record_id: rows.record_model(r) for r in s.scalars(stmt)}
        return [found[i] for i in record_ids if i in found]

    def get(self, viewer: Viewer, record_id: str) -> tuple[ArchiveRecord, Document] | None:
        """The record and its document, or None when it does not exist or is not the viewer's to see."""
        with transaction(self._engine, "read record", write=False) as s:
            row = s.scalars(select(RecordRow).where(RecordRow.record_id == record_id, record_scope(viewer))).first()
            if row is None:
                return None
            doc = s.get(DocumentRow, row.doc_id)
            if doc is None:
                return None
            fields = list(s.scalars(select(FieldRow).where(FieldRow.doc_id == doc.doc_id)))
            return rows.record_model(row), rows.document_model(doc, fields)

    def of_person(self, viewer: Viewer, person_id: str) -> list[ArchiveRecord]:
        """One person's whole record: every record filed under their number that the viewer may see."""
        with transaction(self._engine, "read a person's records", write=False) as s:
            stmt = (
                select(RecordRow)
                .where(RecordRow.person_id == person_id, record_scope(viewer))
                .order_by(RecordRow.form_date, RecordRow.archive_no)
            )
            return [rows.record_model(r) for r in s.scalars(stmt)]
