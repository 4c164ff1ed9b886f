"""One parser per field kind: the text OCR read for a value → its canonical form, or why it has none.

Form fields (extract/fields.py) and person-table cells (extract/table_rows.py) both parse here, so the
same text gives the same value wherever it is printed. Ranges, choices and word lists are registry
data. A parse says what its check found as a verdict; it never touches a confidence.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from pipeline.extract import validators as v
from pipeline.extract.id_check import area_known
from pipeline.text import normalize_text
from schemas.models import CheckName, CheckOutcome, CheckVerdict
from schemas.registry import get_registry
from schemas.registry_models import FieldKind, FieldSpec


@dataclass(frozen=True, slots=True)
class Parsed:
    normalized: str | None
    reason: str | None = None
    """Why there is no canonical form, or which repair gave it."""
    repaired: bool = False
    checked: bool = True
    """False for free text, which has no check to pass."""
    extra: tuple[CheckVerdict, ...] = ()
    """Verdicts of the kind's secondary checks (an ID number's area code), which never reject a value."""

    def verdicts(self) -> list[CheckVerdict]:
        """The value check's verdict, and for a repaired value that it was not read as printed."""
        if self.normalized is None:
            return [CheckVerdict(check=CheckName.VALUE, outcome=CheckOutcome.FAILED, reason=self.reason)]
        value = CheckVerdict(
            check=CheckName.VALUE, outcome=CheckOutcome.PASSED if self.checked else CheckOutcome.NOT_APPLICABLE
        )
        out = [value, *self.extra]
        if self.repaired:
            out.append(CheckVerdict(check=CheckName.AS_PRINTED, outcome=CheckOutcome.FAILED, reason=self.reason))
        return out


def _checked(value: str | None, what: str) -> Parsed:
    return Parsed(value) if value else Parsed(None, f"{what} not recognised")


# Handwriting jitter reads as dots and commas inside a row of digit boxes.
_ID_NOISE = re.compile(r"[\s.,·:;'`\-]")


def _id_number(spec: FieldSpec, raw: str) -> Parsed:
    value, repaired = v.parse_id_number(_ID_NOISE.sub("", raw))
    if value is None:
        return Parsed(None, "ID number fails the GB 11643 check")
    # A random misread passes the check digit 1 time in 11, so a pass removes most doubt. The area code
    # is that of the county of issue, which may be newer than the holder or older than the table:
    # an unknown one is said, and the number stands.
    if area_known(value[:6]):
        area = CheckVerdict(check=CheckName.ID_AREA, outcome=CheckOutcome.PASSED)
    else:
        why = f"area code {value[:6]} is in no GB/T 2260 table (a warning: the number stands)"
        area = CheckVerdict(check=CheckName.ID_AREA, outcome=CheckOutcome.NOT_APPLICABLE, reason=why)
    return Parsed(value, "repaired OCR confusion" if repaired else None, repaired=repaired, extra=(area,))


def _date(spec: FieldSpec, raw: str) -> Parsed:
    latest = None
    future = get_registry().future_dates
    if spec.key in future.keys:
        today = date.today()
        latest = today.replace(year=today.year + future.years, day=min(today.day, 28))
    # a year and month alone is a value only where the label asks for one (增减年月); elsewhere the day
    # was lost and the month's first day would be a guess
    d = v.parse_date(raw, latest=latest, month_only="年月" in spec.label)
    if d is not None:
        return Parsed(d.isoformat())
    recovered = v.recover_date(raw, latest=latest)
    if recovered is not None:
        return Parsed(recovered.isoformat(), "month and day run together, one reading", repaired=True)
    return Parsed(None, "date not recognised or out of range")


# A year in a document number (人社工认字〔2023〕第043号) is printed in 〔〕; OCR returns any bracket pair.
_YEAR_BRACKETS = re.compile(r"[\[【(（〔［]\s*((?:19|20)\d{2})\s*[\]】)）〕］]")


def clean_text(raw: str) -> str:
    """A free-text value as printed: OCR's look-alike punctuation mapped back, stray edge marks dropped."""
    text = raw.strip().replace("丶", "、")
    text = _YEAR_BRACKETS.sub(r"〔\1〕", text)
    return text.strip(" :：·•・.,，;；、")


def _name(spec: FieldSpec, raw: str) -> Parsed:
    registry = get_registry()
    name = v.parse_name(raw)
    if name is not None and (name in registry.form_words or any(name in label for label in registry.labels())):
        return Parsed(None, "name reads as a printed label or form word")
    return _checked(name, "name")


def _org_name(spec: FieldSpec, raw: str) -> Parsed:
    registry = get_registry()
    name = v.parse_org_name(clean_text(raw), registry.org_name_endings)
    if name is None:
        return Parsed(None, "does not end in an organisational form (cut short?)")
    if name in registry.labels():
        return Parsed(None, "unit name reads as a printed label")
    return Parsed(name)


def _amount(spec: FieldSpec, raw: str) -> Parsed:
    amount = v.parse_amount(raw)
    if amount is None:
        return Parsed(None, "amount not recognised")
    limits = get_registry().amount_ranges.get(spec.key)
    if limits is not None and not limits[0] <= float(amount) <= limits[1]:
        return Parsed(None, f"amount {amount} outside {limits[0]:g}–{limits[1]:g} (a decimal point lost?)")
    return Parsed(amount)


def _choice(spec: FieldSpec, raw: str) -> Parsed:
    text = normalize_text(clean_text(raw))
    exact = [c for c in spec.choices if normalize_text(c) == text]
    hits = exact or [c for c in spec.choices if normalize_text(c) in text]
    return Parsed(hits[0]) if len(hits) == 1 else Parsed(None, "not one of the form's choices")


def _text(spec: FieldSpec, raw: str) -> Parsed:
    text = clean_text(raw)
    return Parsed(text, checked=False) if text else Parsed(None, "empty")


_PARSERS: dict[FieldKind, Callable[[FieldSpec, str], Parsed]] = {
    FieldKind.ID_NUMBER: _id_number,
    FieldKind.UNIT_CODE: lambda spec, raw: _checked(v.parse_unit_code(raw), "unit code (GB 32100)"),
    FieldKind.NAME: _name,
    FieldKind.DATE: _date,
    FieldKind.AMOUNT: _amount,
    FieldKind.PHONE: lambda spec, raw: _checked(v.parse_phone(raw), "phone number"),
    FieldKind.SEX: lambda spec, raw: _checked(v.parse_sex(raw), "sex"),
    FieldKind.TEXT: _text,
    FieldKind.CHOICE: _choice,
    FieldKind.ORG_NAME: _org_name,
}


def parse_value(spec: FieldSpec, raw: str) -> Parsed:
    """The canonical form of `raw` as a value of `spec` (its kind, range and choices)."""
    return _PARSERS[spec.kind](spec, raw)
