"""Which documents a person must look at: every document in review, and an audit sample of accepted ones."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.decide import is_audit_sample
from pipeline.store import CatalogueStore
from schemas.models import DocumentStatus, FieldStatus, QcTask

AUDIT_REASON = "audit sample of an accepted document"


def queue_reviews(store: CatalogueStore, batch_id: str, audit_sample_rate: float) -> int:
    """A QC task per document of the batch in review, plus the audit sample; a document with a task keeps it."""
    queued = 0
    has_task = {t.doc_id for t in store.qc_tasks()}
    for doc in store.documents(batch_id):
        audit = doc.status is DocumentStatus.ACCEPTED and is_audit_sample(doc.doc_id, audit_sample_rate)
        if doc.doc_id in has_task or (doc.status is not DocumentStatus.REVIEW and not audit):
            continue
        store.upsert_qc_task(
            QcTask(
                task_id="q" + doc.doc_id,
                doc_id=doc.doc_id,
                reasons=[AUDIT_REASON] if audit else doc.review_reasons,
                fields=[f.key for f in doc.fields if f.status in (FieldStatus.REVIEW, FieldStatus.MISSING)],
                audit_sample=audit,
                created_at=datetime.now(UTC),
            )
        )
        queued += 1
    return queued
