"""Translation between the pydantic domain models and table rows.

Callers of the store only ever see pydantic models; ORM rows stay inside `pipeline.store`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from pipeline.store.tables import (
    AuditEventRow,
    BatchRow,
    DocumentRow,
    FieldRow,
    QcTaskRow,
    RecordRow,
    SourceFileRow,
)
from schemas.models import (
    ArchiveRecord,
    AuditEvent,
    Batch,
    Document,
    ExtractedField,
    PageResult,
    QcTask,
    SourceFile,
)

Values = dict[str, Any]


def batch_values(batch: Batch) -> Values:
    return {
        "batch_id": batch.batch_id,
        "root": batch.root,
        "manifest": batch.manifest.model_dump(mode="json"),
        "created_at": batch.created_at,
    }


def batch_model(row: BatchRow) -> Batch:
    return Batch.model_validate(
        {"batch_id": row.batch_id, "root": row.root, "manifest": row.manifest, "created_at": row.created_at}
    )


def source_file_values(sf: SourceFile, now: datetime) -> Values:
    return {
        "batch_id": sf.batch_id,
        "rel_path": sf.rel_path,
        "file_id": sf.file_id,
        "kind": sf.kind.value if sf.kind is not None else None,
        "size": sf.size,
        "sha256": sf.sha256,
        "page_count": sf.page_count,
        "status": sf.status.value,
        "error": sf.error,
        "duplicate_of": sf.duplicate_of,
        "note": sf.note,
        "updated_at": now,
    }


def source_file_model(row: SourceFileRow) -> SourceFile:
    return SourceFile.model_validate(
        {
            "file_id": row.file_id,
            "batch_id": row.batch_id,
            "rel_path": row.rel_path,
            "kind": row.kind,
            "size": row.size,
            "sha256": row.sha256,
            "page_count": row.page_count,
            "status": row.status,
            "error": row.error,
            "duplicate_of": row.duplicate_of,
            "note": row.note,
        }
    )


def page_values(batch_id: str, page: PageResult) -> Values:
    return {
        "file_id": page.page.file_id,
        "page_no": page.page.page_no,
        "batch_id": batch_id,
        "kind": page.kind.value,
        "is_blank": page.preprocess.is_blank,
        "rotation": page.preprocess.rotation,
        "skew": page.preprocess.skew_degrees,
        "data": page.model_dump(mode="json"),
    }


def document_values(doc: Document, now: datetime) -> Values:
    cls = doc.classification
    return {
        "doc_id": doc.doc_id,
        "batch_id": doc.batch_id,
        "file_id": doc.file_id,
        "rel_path": doc.rel_path,
        "first_page": doc.first_page,
        "last_page": doc.last_page,
        "form_id": cls.label if cls is not None else None,
        "form_confidence": cls.confidence if cls is not None else None,
        "status": doc.status.value,
        "data": doc.model_dump(mode="json", exclude={"fields"}),
        "updated_at": now,
    }


def field_values(doc_id: str, fields: list[ExtractedField]) -> list[Values]:
    return [
        {
            "doc_id": doc_id,
            "position": i,
            "key": f.key,
            "label": f.label,
            "value": f.value,
            "normalized": f.normalized,
            "confidence": f.confidence,
            "status": f.status.value,
            "page_no": f.page_no,
            "box": list(f.box) if f.box is not None else None,
            "reasons": list(f.reasons),
            "features": dict(f.features),
        }
        for i, f in enumerate(fields)
    ]


def field_model(row: FieldRow) -> ExtractedField:
    return ExtractedField.model_validate(
        {
            "key": row.key,
            "label": row.label,
            "value": row.value,
            "normalized": row.normalized,
            "confidence": row.confidence,
            "page_no": row.page_no,
            "box": tuple(row.box) if row.box is not None else None,
            "status": row.status,
            "reasons": row.reasons,
            "features": row.features or {},
        }
    )


def document_model(row: DocumentRow, fields: list[FieldRow]) -> Document:
    data = dict(row.data)
    data["fields"] = [field_model(f) for f in sorted(fields, key=lambda f: f.position)]
    return Document.model_validate(data)


def record_values(rec: ArchiveRecord, now: datetime) -> Values:
    return {
        "record_id": rec.record_id,
        "doc_id": rec.doc_id,
        "archive_no": rec.archive_no,
        "person_id": rec.person_id,
        "title": rec.title,
        "form_date": rec.form_date,
        "retention": rec.retention.value if rec.retention is not None else None,
        "destroy_after": rec.destroy_after,
        "pdfa_path": rec.pdfa_path,
        "sha256": rec.sha256,
        "data": rec.model_dump(mode="json"),
        "created_at": now,
        "updated_at": now,
    }


def record_model(row: RecordRow) -> ArchiveRecord:
    return ArchiveRecord.model_validate(row.data)


def qc_task_values(task: QcTask, now: datetime) -> Values:
    return {
        "task_id": task.task_id,
        "doc_id": task.doc_id,
        "reasons": list(task.reasons),
        "fields": list(task.fields),
        "audit_sample": task.audit_sample,
        "status": task.status,
        "claimed_by": task.claimed_by,
        "claimed_at": now if task.status != "open" else None,
        "completed_at": now if task.status == "done" else None,
        "created_at": task.created_at,
    }


def qc_task_model(row: QcTaskRow) -> QcTask:
    return QcTask.model_validate(
        {
            "task_id": row.task_id,
            "doc_id": row.doc_id,
            "reasons": row.reasons,
            "fields": row.fields,
            "audit_sample": row.audit_sample,
            "status": row.status,
            "claimed_by": row.claimed_by,
            "created_at": row.created_at,
            "completed_at": row.completed_at,
        }
    )


def audit_values(event: AuditEvent) -> Values:
    values = event.model_dump()
    # The same instant hashes the same whatever zone it was written in.
    at = event.at if event.at.tzinfo is not None else event.at.replace(tzinfo=UTC)
    values["at"] = at.astimezone(UTC)
    content = {**event.model_dump(mode="json"), "at": values["at"].isoformat()}
    if content["client"] is None:
        del content["client"]  # keys of events written before there was a client column stay the same
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
    values["event_key"] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return values


def audit_model(row: AuditEventRow) -> AuditEvent:
    return AuditEvent.model_validate(
        {
            "at": row.at,
            "actor": row.actor,
            "action": row.action,
            "record_id": row.record_id,
            "doc_id": row.doc_id,
            "field": row.field,
            "old": row.old,
            "new": row.new,
            "why": row.why,
            "client": row.client,
        }
    )
