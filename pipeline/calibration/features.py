"""What a field's confidence is computed from, read off the extracted document.

The features are derived here from the field values and the registry, not from the extractor's
reason texts, so the calibration keeps meaning the same thing while the extractor changes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.extract import validators as v
from pipeline.text import normalize_text
from schemas.models import Document, ExtractedField, FieldStatus
from schemas.registry import get_registry
from schemas.registry_models import FieldKind, FieldSpec, FormSpec

Validator = Literal["passed", "repaired", "failed", "none"]
CrossCheck = Literal["agreed", "disagreed", "absent"]
Shape = Literal["date", "digits", "han", "mixed", "empty"]

# Kinds whose value is checked by a validator; a TEXT value has nothing to pass or fail.
_VALIDATED = frozenset(FieldKind) - {FieldKind.TEXT}
# Dates that must come in this order on one person's form.
_DATE_ORDER = ("birth_date", "work_start_date", "retire_date")

# Retirement dates lie decades ahead; the shape test only asks whether a value reads as a date.
_LATEST = date(2100, 12, 31)

RAW_CONFIDENCE = "raw_confidence"
LABEL_SCORE = "label_score"


class FieldFeatures(BaseModel):
    """One field's evidence, the input of the calibrator."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    kind: FieldKind
    raw_confidence: float
    validator: Validator
    cross_check: CrossCheck
    value_chars: int
    shape: Shape
    ending: str = Field(default="", description="last character of the value, every digit as #")
    label_like: bool = False
    label_score: float | None = None

    def as_record(self) -> dict[str, float | str]:
        out: dict[str, float | str] = {
            "kind": self.kind.value,
            "shape": self.shape,
            "label_like": float(self.label_like),
            "ending": self.ending,
            RAW_CONFIDENCE: self.raw_confidence,
            "validator": self.validator,
            "cross_check": self.cross_check,
            "value_chars": float(self.value_chars),
        }
        if self.label_score is not None:
            out[LABEL_SCORE] = self.label_score
        return out


def value_shape(value: str) -> Shape:
    """What the value looks like; a date or a number in a name's place is a value from a neighbour."""
    text = normalize_text(value)
    if not text:
        return "empty"
    if any(c.isdigit() or c in "〇○一二三" for c in text) and v.parse_date(text, latest=_LATEST) is not None:
        return "date"
    digits = sum(c.isdigit() for c in text)
    han = sum("\u4e00" <= c <= "\u9fff" for c in text)
    if digits >= 0.8 * len(text):
        return "digits"
    if han >= 0.8 * len(text):
        return "han"
    return "mixed"


@lru_cache(maxsize=1)
def _label_words() -> frozenset[str]:
    return frozenset(
        normalize_text(label) for form in get_registry().forms for f in form.fields for label in (f.label, *f.synonyms)
    )


def is_label_like(value: str) -> bool:
    """A value that is (part of) a printed label, such as 单位 of 单位名称: the label, not a value."""
    text = normalize_text(value)
    return bool(text) and any(text in label or label in text for label in _label_words())


def value_ending(value: str) -> str:
    """The last character, digits as one class: a unit name cut short ends in 纺织, not 厂 or 公司."""
    text = normalize_text(value)
    if not text:
        return ""
    return "#" if text[-1].isdigit() else text[-1]


def _validator(field: ExtractedField, kind: FieldKind) -> Validator:
    if kind not in _VALIDATED:
        return "none"
    if field.normalized is None:
        return "failed"
    if kind is FieldKind.ID_NUMBER and field.value is not None:
        _, repaired = v.parse_id_number(field.value)
        return "repaired" if repaired else "passed"
    return "passed"


def _id_checks(fields: dict[str, ExtractedField]) -> dict[str, bool]:
    """key → does the field agree with what the ID number encodes; only keys both sides have."""
    id_field = fields.get("id_number")
    if id_field is None or id_field.normalized is None:
        return {}
    expected: dict[str, str | None] = {}
    birth = v.id_birth_date(id_field.normalized)
    expected["birth_date"] = birth.isoformat() if birth else None
    expected["sex"] = v.id_sex(id_field.normalized)
    out: dict[str, bool] = {}
    for key, want in expected.items():
        other = fields.get(key)
        if other is None or other.normalized is None or want is None:
            continue
        out[key] = other.normalized == want
    if out:
        # The ID number is checked by every comparison it takes part in.
        out["id_number"] = all(out.values())
    return out


def _order_checks(fields: dict[str, ExtractedField]) -> dict[str, bool]:
    dates = [(k, fields[k].normalized or "") for k in _DATE_ORDER if k in fields and fields[k].normalized]
    out: dict[str, bool] = {}
    for (k1, d1), (k2, d2) in itertools.pairwise(dates):
        ok = d1 < d2
        for k in (k1, k2):
            out[k] = out.get(k, True) and ok
    return out


def cross_checks(fields: Sequence[ExtractedField]) -> dict[str, CrossCheck]:
    """Per field key: agreed with another reading, disagreed with one, or nothing to compare."""
    by_key = {f.key: f for f in fields if f.normalized is not None}
    out: dict[str, CrossCheck] = {}
    for checks in (_id_checks(by_key), _order_checks(by_key)):
        for key, ok in checks.items():
            if not ok:
                out[key] = "disagreed"
            elif out.get(key) != "disagreed":
                out[key] = "agreed"
    return out


def field_features(field: ExtractedField, spec: FieldSpec | None, cross: CrossCheck) -> FieldFeatures:
    """The evidence for one found field. `field.features` keeps the raw confidence once it is set,
    so deciding a document twice never calibrates an already calibrated confidence."""
    kind = spec.kind if spec is not None else FieldKind.TEXT
    raw = field.features.get(RAW_CONFIDENCE, field.confidence)
    label_score = field.features.get(LABEL_SCORE)
    return FieldFeatures(
        key=field.key,
        kind=kind,
        raw_confidence=float(raw),
        validator=_validator(field, kind),
        cross_check=cross,
        value_chars=len(normalize_text(field.value or "")),
        shape=value_shape(field.value or ""),
        ending=value_ending(field.value or ""),
        label_like=is_label_like(field.value or ""),
        label_score=float(label_score) if label_score is not None else None,
    )


def document_features(doc: Document, form: FormSpec | None) -> list[FieldFeatures | None]:
    """Per field of the document, in order: its evidence, or None for a field that was not found."""
    specs = {s.key: s for s in form.fields} if form is not None else {}
    cross = cross_checks(doc.fields)
    return [
        None
        if f.status is FieldStatus.MISSING or f.value is None
        else field_features(f, specs.get(f.key), cross.get(f.key, "absent"))
        for f in doc.fields
    ]
