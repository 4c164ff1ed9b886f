"""What a field's confidence is computed from, read off the extracted document.

The features are derived here from the field values, the verdicts of the checks the extractor ran
(stored on each field) and the registry, never from the extractor's reason texts, so the calibration
keeps meaning the same thing while the extractor changes.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.extract import validators as v
from pipeline.extract.checks import CROSS_CHECKS
from pipeline.text import normalize_text
from schemas.models import CheckName, CheckOutcome, Document, ExtractedField, FieldStatus
from schemas.registry import get_registry
from schemas.registry_models import FieldKind, FieldSpec, FormSpec

Validator = Literal["passed", "repaired", "failed", "none"]
CrossCheck = Literal["agreed", "disagreed", "absent"]
Shape = Literal["date", "digits", "han", "mixed", "empty"]

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
    return frozenset(normalize_text(label) for label in get_registry().labels())


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


def _validator(field: ExtractedField) -> Validator:
    outcomes = {c.check: c.outcome for c in field.checks}
    value = outcomes.get(CheckName.VALUE)
    if value is CheckOutcome.FAILED:
        return "failed"
    if value is not CheckOutcome.PASSED:
        return "none"  # free text, or a field no check has seen
    return "repaired" if outcomes.get(CheckName.AS_PRINTED) is CheckOutcome.FAILED else "passed"


def cross_check_state(field: ExtractedField) -> CrossCheck:
    """Disagreed with another reading when any cross-check failed, agreed when one passed and none
    failed, absent when none could be applied."""
    outcomes = {c.outcome for c in field.checks if c.check in CROSS_CHECKS}
    if CheckOutcome.FAILED in outcomes:
        return "disagreed"
    return "agreed" if CheckOutcome.PASSED in outcomes else "absent"


def field_features(field: ExtractedField, spec: FieldSpec | None) -> FieldFeatures:
    """The evidence for one found field. `field.features` keeps the raw confidence once it is set,
    so deciding a document twice never calibrates an already calibrated confidence."""
    kind = spec.kind if spec is not None else FieldKind.TEXT
    raw = field.features.get(RAW_CONFIDENCE, field.confidence)
    label_score = field.features.get(LABEL_SCORE)
    return FieldFeatures(
        key=field.key,
        kind=kind,
        raw_confidence=float(raw),
        validator=_validator(field),
        cross_check=cross_check_state(field),
        value_chars=len(normalize_text(field.value or "")),
        shape=value_shape(field.value or ""),
        ending=value_ending(field.value or ""),
        label_like=is_label_like(field.value or ""),
        label_score=float(label_score) if label_score is not None else None,
    )


def document_features(doc: Document, form: FormSpec | None) -> list[FieldFeatures | None]:
    """Per field of the document, in order: its evidence, or None for a field that was not found."""
    specs = {s.key: s for s in form.fields} if form is not None else {}
    return [
        None if f.status is FieldStatus.MISSING or f.value is None else field_features(f, specs.get(f.key))
        for f in doc.fields
    ]
