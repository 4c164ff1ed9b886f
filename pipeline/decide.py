"""Stage 7: accept what is certain, route the rest to QC review with the reasons."""

from __future__ import annotations

import hashlib

from pipeline.settings import DecideSettings
from schemas.models import Document, DocumentStatus, ExtractedField, FieldStatus
from schemas.registry_models import FormSpec

FORM_THRESHOLD_KEY = "form_type"
DEFAULT_FORM_THRESHOLD = 0.75


def threshold_for(key: str, settings: DecideSettings) -> float:
    if key == FORM_THRESHOLD_KEY:
        return settings.thresholds.get(key, DEFAULT_FORM_THRESHOLD)
    return settings.thresholds.get(key, settings.default_threshold)


def decide_field(field: ExtractedField, settings: DecideSettings) -> ExtractedField:
    if field.status is FieldStatus.MISSING:
        return field
    limit = threshold_for(field.key, settings)
    ok = field.normalized is not None and field.confidence >= limit
    reasons = list(field.reasons)
    if not ok and field.normalized is not None:
        reasons.append(f"confidence {field.confidence:.2f} below {limit:.2f}")
    return field.model_copy(
        update={"status": FieldStatus.ACCEPTED if ok else FieldStatus.REVIEW, "reasons": reasons}
    )


def is_audit_sample(doc_id: str, rate: float) -> bool:
    """A stable pseudo-random draw: re-running a batch picks the same documents."""
    draw = int(hashlib.sha256(f"audit:{doc_id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return draw < rate


def decide_document(doc: Document, form: FormSpec | None, settings: DecideSettings) -> Document:
    fields = [decide_field(f, settings) for f in doc.fields]
    reasons: list[str] = []
    cls = doc.classification
    if cls is None or cls.label is None:
        reasons.append("form type unknown")
    elif cls.confidence < threshold_for(FORM_THRESHOLD_KEY, settings):
        reasons.append(f"form type uncertain ({cls.confidence:.2f})")
    required = {f.key for f in form.fields if f.required} if form else set()
    for f in fields:
        if f.status is FieldStatus.ACCEPTED:
            continue
        if f.key in required or settings.review_optional_fields:
            why = "; ".join(f.reasons) or f.status.value
            reasons.append(f"{f.key}: {why}")
    status = DocumentStatus.REVIEW if reasons else DocumentStatus.ACCEPTED
    return doc.model_copy(update={"fields": fields, "status": status, "review_reasons": reasons})
