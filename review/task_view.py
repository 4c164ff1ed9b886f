"""What the task page shows of a document under review: each field, whether it needs a look, and why."""

from __future__ import annotations

from pydantic import BaseModel

from review.checks import check_field
from schemas.models import Document, FieldStatus, QcTask
from schemas.registry import get_registry

# How the decide stage's reasons read to a reviewer.
_REASON_WORDS = {
    "low_confidence": "below threshold",
    "missing": "missing",
    "failed_check": "failed check",
}


class FieldView(BaseModel):
    position: int
    key: str
    label: str
    value: str
    status: str
    reason: str
    needs_look: bool
    required: bool
    has_crop: bool
    page_no: int | None
    check_ok: bool
    check_reason: str | None


def _reason(status: FieldStatus, reasons: list[str], check_reason: str | None) -> str:
    if status is FieldStatus.MISSING:
        return "missing"
    words = [_REASON_WORDS.get(r, r) for r in reasons]
    if check_reason and check_reason not in words:
        words.append(f"failed check: {check_reason}")
    return "; ".join(words)


def field_views(doc: Document, task: QcTask) -> list[FieldView]:
    form_id = doc.classification.label if doc.classification else None
    flagged = set(task.fields)
    out = []
    for position, f in enumerate(doc.fields):
        value = f.normalized if f.normalized is not None else (f.value or "")
        check = check_field(form_id, f.key, value)
        needs = (
            f.status in (FieldStatus.REVIEW, FieldStatus.MISSING)
            or f.key in flagged
            or not check.ok
            or task.audit_sample
        )
        out.append(
            FieldView(
                position=position,
                key=f.key,
                label=f.label,
                value=value,
                status=f.status.value,
                reason=_reason(f.status, f.reasons, check.reason) or ("audit sample" if task.audit_sample else ""),
                needs_look=needs,
                required=check.required,
                has_crop=f.box is not None and f.page_no is not None,
                page_no=f.page_no,
                check_ok=check.ok,
                check_reason=check.reason,
            )
        )
    return out


def form_choices() -> list[tuple[str, str]]:
    """The main forms a reviewer may retype a document to: (form id, title), by title."""
    return sorted(((f.form_id, f.title) for f in get_registry().main_forms()), key=lambda x: x[1])
