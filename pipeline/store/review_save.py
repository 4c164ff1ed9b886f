"""A reviewer's save, in one transaction: the lease is still theirs, the document is the version they
saw, then the fields, the correction records, the audit entries and the task's completion land together.

Either all of it is written or none: a stale lease or an older document version leaves nothing behind.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Engine, select, update

from pipeline.store import audit_chain, rows
from pipeline.store.access_tables import CorrectionRow
from pipeline.store.engine import transaction
from pipeline.store.leases import LeaseError, LeaseStore
from pipeline.store.tables import DocumentRow, FieldRow, QcTaskRow
from schemas.models import AuditEvent, Document, DocumentStatus, ExtractedField, FieldStatus
from schemas.review_work import Correction, CorrectionKind


class StaleDocumentError(LeaseError):
    """The document changed (re-processed, or saved by someone else) after the page was opened."""


class ReviewedField(BaseModel):
    position: int
    value: str | None
    normalized: str | None
    reason: str | None = None
    evidence: str | None = None


def document_version(doc_row_updated_at: datetime) -> str:
    """What a task page carries to prove which version of the document it showed."""
    return doc_row_updated_at.isoformat()


def _correction_values(c: Correction) -> dict[str, Any]:
    return c.model_dump(mode="python") | {"kind": c.kind.value}


class ReviewSaver:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    def load(self, doc_id: str) -> tuple[Document, str] | None:
        """The document with the version token a save must bring back."""
        with transaction(self._engine, "read document", write=False) as s:
            row = s.get(DocumentRow, doc_id)
            if row is None:
                return None
            fields = list(s.scalars(select(FieldRow).where(FieldRow.doc_id == doc_id)))
            return rows.document_model(row, fields), document_version(row.updated_at)

    def save(
        self,
        *,
        task_id: str,
        reviewer: str,
        token: str,
        version: str,
        reviewed: list[ReviewedField],
        now: datetime,
        client: str,
        finish: bool = True,
    ) -> tuple[Document, list[Correction]]:
        """Apply the reviewer's values; returns the document as saved and the corrections written."""
        with transaction(self._engine, "save a review", write=True) as s:
            task = s.get(QcTaskRow, task_id, with_for_update=self._dialect == "postgresql")
            LeaseStore._check(task, task_id, reviewer, token, now)
            assert task is not None
            doc_row = s.get(DocumentRow, task.doc_id, with_for_update=self._dialect == "postgresql")
            if doc_row is None:
                raise StaleDocumentError(f"document {task.doc_id} is no longer in the catalogue (re-processed)")
            if document_version(doc_row.updated_at) != version:
                raise StaleDocumentError(
                    f"document {task.doc_id} changed after you opened it (re-processed or saved by someone else); "
                    "nothing was saved: reload the task and review the current version"
                )
            field_rows = {f.position: f for f in s.scalars(select(FieldRow).where(FieldRow.doc_id == task.doc_id))}
            doc = rows.document_model(doc_row, list(field_rows.values()))
            corrections: list[Correction] = []
            for item in reviewed:
                row = field_rows.get(item.position)
                if row is None:
                    raise StaleDocumentError(f"document {task.doc_id} has no field #{item.position}; reload the task")
                corrections.append(self._apply(s, task_id, reviewer, doc, row, item, now, client))
            if finish:
                doc = doc.model_copy(update={"status": DocumentStatus.ACCEPTED})
                s.execute(
                    update(QcTaskRow)
                    .where(QcTaskRow.task_id == task_id)
                    .values(status="done", completed_at=now, lease_token=None, lease_expires_at=None)
                    .execution_options(synchronize_session=False)
                )
            values = rows.document_values(doc, now)
            doc_row.status, doc_row.data, doc_row.updated_at = values["status"], values["data"], now
            s.flush()
            saved = rows.document_model(
                doc_row, list(s.scalars(select(FieldRow).where(FieldRow.doc_id == task.doc_id)))
            )
            return saved, corrections

    def _apply(
        self,
        s: Any,
        task_id: str,
        reviewer: str,
        doc: Document,
        row: FieldRow,
        item: ReviewedField,
        now: datetime,
        client: str,
    ) -> Correction:
        machine: ExtractedField = doc.fields[row.position]
        before = row.normalized if row.normalized is not None else row.value
        after = item.normalized if item.normalized is not None else item.value
        kind = CorrectionKind.CONFIRMED if after == before else CorrectionKind.CORRECTED
        correction = Correction(
            at=now, actor=reviewer, task_id=task_id, batch_id=doc.batch_id, doc_id=doc.doc_id,
            form_id=doc.classification.label if doc.classification else None, position=row.position,
            key=row.key, kind=kind, old=before, new=after, reason=item.reason, evidence=item.evidence,
            machine_confidence=row.confidence, machine_status=row.status, features=dict(machine.features),
        )  # fmt: skip
        row.value = item.value
        row.normalized = item.normalized
        row.status = FieldStatus.CONFIRMED.value if kind is CorrectionKind.CONFIRMED else FieldStatus.CORRECTED.value
        row.confidence = 1.0
        s.add(CorrectionRow(**_correction_values(correction)))
        audit_chain.append(
            s,
            self._dialect,
            AuditEvent(
                at=now,
                actor=reviewer,
                action="correct" if kind is CorrectionKind.CORRECTED else "confirm",
                doc_id=doc.doc_id,
                field=row.key,
                old=before,
                new=after,
                why=correction.as_archive_note(row.label),
                client=client,
            ),
        )
        return correction

    def corrections(self, batch_id: str | None = None) -> list[Correction]:
        with transaction(self._engine, "list corrections", write=False) as s:
            stmt = select(CorrectionRow)
            if batch_id is not None:
                stmt = stmt.where(CorrectionRow.batch_id == batch_id)
            return [
                Correction.model_validate(
                    {c.key: getattr(r, c.key) for c in cast(Any, CorrectionRow.__table__).c if c.key != "id"}
                )
                for r in s.scalars(stmt.order_by(CorrectionRow.id))
            ]
