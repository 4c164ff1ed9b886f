"""Stage 6: the fields a form prints, read from the OCR words of the document's form pages."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from classifiers.text import normalize_text
from pipeline.extract import validators as v
from pipeline.extract.anchors import Anchor, ValueSpan, find_anchors, value_below, value_right
from schemas.models import ExtractedField, FieldStatus, OcrPage
from schemas.registry import get_registry
from schemas.registry_models import FieldKind, FieldSpec, FormSpec

log = logging.getLogger(__name__)

# How far a failed check drags the OCR confidence down: an unparseable value is rarely right.
_FAILED_CHECK = 0.3


@dataclass(frozen=True)
class Parsed:
    normalized: str | None
    confidence_factor: float
    reason: str | None = None


def _checked(ok: str | None, what: str) -> Parsed:
    return Parsed(ok, 1.0, None) if ok else Parsed(None, _FAILED_CHECK, f"{what} not recognised")


def _parse_id(raw: str) -> Parsed:
    value, repaired = v.parse_id_number(raw)
    if value is None:
        return Parsed(None, _FAILED_CHECK, "ID number fails the GB 11643 check")
    # A random misread passes the check digit 1 time in 11, so a pass removes most doubt.
    return Parsed(value, 0.9 if repaired else 1.0, "repaired OCR confusion" if repaired else None)


def _parse_date(raw: str) -> Parsed:
    d = v.parse_date(raw)
    return Parsed(d.isoformat(), 1.0) if d else Parsed(None, _FAILED_CHECK, "date not recognised or out of range")


_PARSERS: dict[FieldKind, Callable[[str], Parsed]] = {
    FieldKind.ID_NUMBER: _parse_id,
    FieldKind.UNIT_CODE: lambda raw: _checked(v.parse_unit_code(raw), "unit code (GB 32100)"),
    FieldKind.DATE: _parse_date,
    FieldKind.NAME: lambda raw: _checked(v.parse_name(raw), "name"),
    FieldKind.SEX: lambda raw: _checked(v.parse_sex(raw), "sex"),
    FieldKind.AMOUNT: lambda raw: _checked(v.parse_amount(raw), "amount"),
    FieldKind.PHONE: lambda raw: _checked(v.parse_phone(raw), "phone number"),
}


def _parse(spec: FieldSpec, raw: str) -> Parsed:
    parser = _PARSERS.get(spec.kind)
    if parser is not None:
        return parser(raw)
    text = raw.strip(" :：")
    if spec.kind is FieldKind.CHOICE and spec.choices:
        hits = [c for c in spec.choices if normalize_text(c) in normalize_text(text)]
        return Parsed(hits[0], 1.0) if len(hits) == 1 else Parsed(None, _FAILED_CHECK, "choice not recognised")
    return Parsed(text or None, 0.95 if text else 0.0, None if text else "empty")


@lru_cache(maxsize=1)
def _registry_labels() -> tuple[str, ...]:
    # Any label printed on any form stops a value: a neighbouring form's 性别 is never a name.
    return tuple(
        sorted({label for form in get_registry().forms for f in form.fields for label in (f.label, *f.synonyms)})
    )


def _own_labels(form: FormSpec) -> list[str]:
    return [label for f in form.fields for label in (f.label, *f.synonyms)]


def _labels_for(spec: FieldSpec, own: list[str]) -> list[str]:
    # Free-text values can legitimately read like a label (变更项目: 法定代表人), so only the form's own
    # labels stop them; a name, ID, date or code never looks like any label of any form.
    if spec.kind in (FieldKind.TEXT, FieldKind.CHOICE):
        return own
    return own + [label for label in _registry_labels() if label not in own]


def _candidate_values(page: OcrPage, anchor: Anchor, spec: FieldSpec, labels: list[str]) -> list[ValueSpan]:
    spans: list[ValueSpan] = []
    if normalize_text(anchor.remainder):
        spans.append(ValueSpan(text=anchor.remainder, words=(anchor.word,)))
    join = spec.kind in (FieldKind.ID_NUMBER, FieldKind.UNIT_CODE, FieldKind.DATE, FieldKind.PHONE)
    right = value_right(page, anchor, labels, join=join)
    if right is not None:
        spans.append(right)
    below = value_below(page, anchor, labels)
    if below is not None:
        spans.append(below)
    return spans


def extract_field(spec: FieldSpec, pages: Sequence[tuple[int, OcrPage]], labels: list[str]) -> ExtractedField | None:
    """The best-checked value for one field over the document's form pages, or None if no label was seen."""
    best: ExtractedField | None = None
    label_set = {normalize_text(label) for label in labels}
    for page_no, page in pages:
        for anchor in find_anchors(page, [spec.label, *spec.synonyms]):
            for span in _candidate_values(page, anchor, spec, labels):
                if normalize_text(span.text) in label_set:
                    continue
                parsed = _parse(spec, span.text)
                label_trust = anchor.score / 100.0
                confidence = span.confidence * parsed.confidence_factor * (0.8 + 0.2 * label_trust)
                field = ExtractedField(
                    key=spec.key,
                    label=spec.label,
                    value=span.text.strip(),
                    normalized=parsed.normalized,
                    confidence=round(min(max(confidence, 0.0), 1.0), 4),
                    page_no=page_no,
                    box=span.box,
                    reasons=[parsed.reason] if parsed.reason else [],
                )
                if best is None or (field.normalized is not None, field.confidence) > (
                    best.normalized is not None,
                    best.confidence,
                ):
                    best = field
    return best


def _cross_check(fields: dict[str, ExtractedField]) -> None:
    """Birth date and sex inside the ID number must agree with what the form prints elsewhere."""
    id_field = fields.get("id_number")
    if id_field is None or id_field.normalized is None:
        return
    checks: list[tuple[str, str | None]] = []
    birth = v.id_birth_date(id_field.normalized)
    checks.append(("birth_date", birth.isoformat() if birth else None))
    checks.append(("sex", v.id_sex(id_field.normalized)))
    for key, expected in checks:
        other = fields.get(key)
        if other is None or other.normalized is None or expected is None:
            continue
        if other.normalized == expected:
            # Two independent readings agree: both are more credible than either alone.
            for f in (other, id_field):
                f.confidence = round(1 - (1 - f.confidence) * 0.5, 4)
        else:
            reason = f"{key} disagrees with the ID number"
            for f in (other, id_field):
                f.confidence = round(f.confidence * 0.5, 4)
                f.reasons.append(reason)


def _order_check(fields: dict[str, ExtractedField]) -> None:
    chain = ["birth_date", "work_start_date", "retire_date"]
    dates = [(k, fields[k]) for k in chain if k in fields and fields[k].normalized]
    for (k1, f1), (k2, f2) in itertools.pairwise(dates):
        if (f1.normalized or "") >= (f2.normalized or ""):
            for f in (f1, f2):
                f.confidence = round(f.confidence * 0.5, 4)
                f.reasons.append(f"{k1} is not before {k2}")


def extract_fields(form: FormSpec, pages: Sequence[tuple[int, OcrPage]]) -> list[ExtractedField]:
    """Every field the form prints; required fields that were not found come back as MISSING.

    `pages` are (page number within the document, OCR result) of the pages worth reading.
    """
    own = _own_labels(form)
    found: dict[str, ExtractedField] = {}
    for spec in form.fields:
        field = extract_field(spec, pages, _labels_for(spec, own))
        if field is not None:
            found[spec.key] = field
    _cross_check(found)
    _order_check(found)
    out: list[ExtractedField] = []
    for spec in form.fields:
        if spec.key in found:
            out.append(found[spec.key])
        elif spec.required:
            out.append(
                ExtractedField(key=spec.key, label=spec.label, status=FieldStatus.MISSING, reasons=["not found"])
            )
    return out
