"""Stage 7: accept what is certain, route the rest to QC review with the reasons.

Each found field gets a calibrated probability of being right (pipeline/calibration) that is
compared with its kind's threshold. A document goes to review when its form type is unknown or
uncertain, or a required field is missing or below threshold; an optional field below threshold
is flagged on the field and only sends the document to review when `review_optional_fields` is on.
"""

from __future__ import annotations

import hashlib

from pipeline.calibration.artefacts import DecisionModel, decision_model
from pipeline.calibration.features import field_features
from pipeline.settings import DecideSettings
from schemas.models import CheckOutcome, Document, DocumentStatus, ExtractedField, FieldStatus
from schemas.registry_models import FieldSpec, FormSpec

FORM_THRESHOLD_KEY = "form_type"
DEFAULT_FORM_THRESHOLD = 0.75


def form_threshold(settings: DecideSettings) -> float:
    return settings.thresholds.get(FORM_THRESHOLD_KEY, DEFAULT_FORM_THRESHOLD)


def decide_field(
    field: ExtractedField, spec: FieldSpec | None, model: DecisionModel | None, settings: DecideSettings
) -> ExtractedField:
    """The field with its calibrated confidence, the evidence behind it and accepted or review; the
    reasons name every check that failed."""
    if field.status is FieldStatus.MISSING or field.value is None:
        return field
    features = field_features(field, spec)
    if model is not None:
        probability = model.calibration.probability(features)
        limit = model.thresholds.for_field(field.key, features.kind)
    else:
        probability = features.raw_confidence
        limit = settings.default_threshold
    limit = settings.thresholds.get(field.key, limit)
    ok = field.normalized is not None and probability >= limit
    reasons = list(field.reasons)
    for check in field.checks:
        if check.outcome is CheckOutcome.FAILED and check.reason and check.reason not in reasons:
            reasons.append(check.reason)
    below = f"confidence {probability:.3f} below {limit:.3f} for {features.kind.value}"
    if not ok and field.normalized is not None and below not in reasons:
        reasons.append(below)
    return field.model_copy(
        update={
            "confidence": round(probability, 4),
            "status": FieldStatus.ACCEPTED if ok else FieldStatus.REVIEW,
            "reasons": reasons,
            "features": {**field.features, **features.as_record()},
        }
    )


def is_audit_sample(doc_id: str, rate: float) -> bool:
    """A stable pseudo-random draw: re-running a batch picks the same documents."""
    draw = int(hashlib.sha256(f"audit:{doc_id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return draw < rate


def _form_reasons(doc: Document, settings: DecideSettings) -> list[str]:
    cls = doc.classification
    if cls is None or cls.label is None:
        return ["form type unknown"]
    if cls.confidence < form_threshold(settings):
        return [f"form type uncertain ({cls.confidence:.2f})"]
    return []


def decide_document(doc: Document, form: FormSpec | None, settings: DecideSettings) -> Document:
    model = decision_model(settings)
    specs = {s.key: s for s in form.fields} if form is not None else {}
    fields = [decide_field(f, specs.get(f.key), model, settings) for f in doc.fields]
    reasons = _form_reasons(doc, settings)
    required = [s.key for s in form.fields if s.required] if form is not None else []
    for key in required:
        if not any(f.key == key for f in fields):
            reasons.append(f"{key}: not found")
    for f in fields:
        if f.status is FieldStatus.ACCEPTED:
            continue
        if f.key in required or settings.review_optional_fields:
            why = "; ".join(f.reasons) or f.status.value
            reasons.append(f"{f.key}: {why}")
    status = DocumentStatus.REVIEW if reasons else DocumentStatus.ACCEPTED
    return doc.model_copy(update={"fields": fields, "status": status, "review_reasons": reasons})


def decide_rows(doc: Document, form: FormSpec | None, settings: DecideSettings) -> Document:
    """Each person-table cell accepted or left for review by the same calibrated rule as the document's
    fields.

    A row cell in review flags the cell only: the rows are listed for search, and the document's own
    routing already covers the first row through the fields it mirrors.
    """
    if form is None or not doc.table_rows:
        return doc
    model = decision_model(settings)
    specs = {s.key: s for s in form.fields}
    rows = [[decide_field(f, specs.get(f.key), model, settings) for f in row] for row in doc.table_rows]
    return doc.model_copy(update={"table_rows": rows})
