"""A field's checks, re-run as the reviewer types: the extractor's own parsers, never a copy of them."""

from __future__ import annotations

from pydantic import BaseModel

from pipeline.extract.parse import parse_value
from schemas.registry import get_registry
from schemas.registry_models import FieldSpec


class CheckResult(BaseModel):
    ok: bool
    normalized: str | None
    reason: str | None
    required: bool


def field_spec(form_id: str | None, key: str) -> FieldSpec | None:
    if not form_id:
        return None
    try:
        form = get_registry().form(form_id)
    except KeyError:
        return None
    return next((f for f in form.fields if f.key == key), None)


def check_field(form_id: str | None, key: str, raw: str | None) -> CheckResult:
    """Whether `raw` passes the checks of the form's field `key` (GB 11643, GB 32100, date ranges,
    organisational endings, the form's choices …), and its normalised value."""
    spec = field_spec(form_id, key)
    required = bool(spec and spec.required)
    text = (raw or "").strip()
    if not text:
        return CheckResult(ok=not required, normalized=None, reason="required" if required else None, required=required)
    if spec is None:
        # A field the registry does not describe (unknown form): the reviewer's text is the value.
        return CheckResult(ok=True, normalized=text, reason=None, required=False)
    parsed = parse_value(spec, text)
    ok = parsed.normalized is not None
    return CheckResult(ok=ok, normalized=parsed.normalized, reason=None if ok else parsed.reason, required=required)
