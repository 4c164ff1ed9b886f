"""Stage 6: the fields a form prints, read from the OCR words of the document's form pages."""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from pipeline.extract import validators as v
from pipeline.extract.anchors import (
    Anchor,
    ValueSpan,
    find_anchors,
    is_label,
    right_neighbour,
    value_below,
    value_right,
)
from pipeline.text import normalize_text
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


# Dates that may lie ahead of the form: a retirement or a benefit start is planned decades before.
_FUTURE_DATES = frozenset({"retire_date", "benefit_start_date"})
_FUTURE_YEARS = 60


def _parse_date(raw: str, key: str = "") -> Parsed:
    latest = None
    if key in _FUTURE_DATES:
        today = date.today()
        latest = today.replace(year=today.year + _FUTURE_YEARS, day=min(today.day, 28))
    d = v.parse_date(raw, latest=latest)
    return Parsed(d.isoformat(), 1.0) if d else Parsed(None, _FAILED_CHECK, "date not recognised or out of range")


# A year in a document number (人社工认字〔2023〕第043号) is printed in 〔〕; OCR returns any bracket pair.
_YEAR_BRACKETS = re.compile(r"[\[【(（〔［]\s*((?:19|20)\d{2})\s*[\]】)）〕］]")


def clean_text(raw: str) -> str:
    """A free-text value as printed: OCR's look-alike punctuation mapped back, stray edge marks dropped."""
    text = raw.strip().replace("丶", "、")
    text = _YEAR_BRACKETS.sub(r"〔\1〕", text)
    return text.strip(" :：·•・.,，;；、")


_PARSERS: dict[FieldKind, Callable[[str], Parsed]] = {
    FieldKind.ID_NUMBER: _parse_id,
    FieldKind.UNIT_CODE: lambda raw: _checked(v.parse_unit_code(raw), "unit code (GB 32100)"),
    FieldKind.SEX: lambda raw: _checked(v.parse_sex(raw), "sex"),
    FieldKind.PHONE: lambda raw: _checked(v.parse_phone(raw), "phone number"),
}


# Words printed around a signature line that read as a two-character name.
_FORM_WORDS = frozenset({"签字", "签名", "签章", "盖章", "本人", "单位", "日期", "年月日", "经办", "审核", "负责人"})


def _parse_name(raw: str) -> Parsed:
    name = v.parse_name(raw)
    if name is not None and (name in _FORM_WORDS or any(name in label for label in _registry_labels())):
        return Parsed(None, _FAILED_CHECK, "name reads as a printed label or form word")
    return _checked(name, "name")


def _parse_org_name(raw: str) -> Parsed:
    name = v.parse_org_name(clean_text(raw), get_registry().org_name_endings)
    if name is not None and name in _registry_labels():
        return Parsed(None, _FAILED_CHECK, "unit name reads as a printed label")
    if name is None:
        return Parsed(None, _FAILED_CHECK, "does not end in an organisational form (cut short?)")
    return Parsed(name, 1.0)


def _parse_amount(spec: FieldSpec, raw: str) -> Parsed:
    amount = v.parse_amount(raw)
    if amount is None:
        return Parsed(None, _FAILED_CHECK, "amount not recognised")
    limits = get_registry().amount_ranges.get(spec.key)
    if limits is not None and not limits[0] <= float(amount) <= limits[1]:
        why = f"amount {amount} outside {limits[0]:g}–{limits[1]:g} (a decimal point lost?)"
        return Parsed(None, _FAILED_CHECK, why)
    return Parsed(amount, 1.0)


def _parse_choice(spec: FieldSpec, raw: str) -> Parsed:
    text = normalize_text(clean_text(raw))
    exact = [c for c in spec.choices if normalize_text(c) == text]
    hits = exact or [c for c in spec.choices if normalize_text(c) in text]
    return Parsed(hits[0], 1.0) if len(hits) == 1 else Parsed(None, _FAILED_CHECK, "not one of the form's choices")


def _parse(spec: FieldSpec, raw: str) -> Parsed:
    if spec.kind is FieldKind.DATE:
        return _parse_date(raw, spec.key)
    if spec.kind is FieldKind.NAME:
        return _parse_name(raw)
    if spec.kind is FieldKind.ORG_NAME:
        return _parse_org_name(raw)
    if spec.kind is FieldKind.CHOICE and spec.choices:
        return _parse_choice(spec, raw)
    if spec.kind is FieldKind.AMOUNT:
        return _parse_amount(spec, raw)
    parser = _PARSERS.get(spec.kind)
    if parser is not None:
        return parser(raw)
    text = clean_text(raw)
    return Parsed(text or None, 0.95 if text else 0.0, None if text else "empty")


def check_value(spec: FieldSpec, raw: str) -> Parsed:
    """Parse and check one value exactly as extraction does; the review application re-runs it as a
    reviewer types, so a person's value passes the same rules as the machine's."""
    return _parse(spec, raw)


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


@dataclass(frozen=True)
class Candidate:
    span: ValueSpan
    rank: int
    """0 same line or same row as the label, 1 a single fragment of that row (a unit name: the whole row),
    2 a label-like word taken as a value, 3 under the label, 4 a single fragment of a unit name's row: lower
    ranks are where a form puts its values."""


def cut_at_label(text: str, labels: list[str]) -> str:
    """`女 民族 汉` → `女`: OCR ran the next cell's label (and value) into this value."""
    norm_labels = {normalize_text(label) for label in labels if len(normalize_text(label)) >= 2}
    cut = len(text)
    for label in norm_labels:
        # search in the raw text: labels are plain Han, which normalisation keeps as printed
        pos = text.find(label, 1)
        if 0 < pos < cut:
            cut = pos
    return text[:cut]


def _validated(spec: FieldSpec) -> bool:
    return spec.kind not in (FieldKind.TEXT, FieldKind.CHOICE)


def _dotted_name(page: OcrPage, anchor: Anchor, labels: list[str]) -> ValueSpan | None:
    """A minority name the recogniser split at its middle dot (依明 | 江·买买提): the first two or three
    pieces of the row when together they read as one dotted name; the first piece alone would pass as a
    Han name and be wrong."""
    row = value_right(page, anchor, labels, join=True)
    if row is None or len(row.words) < 2:
        return None
    for n in (3, 2):
        words = row.words[:n]
        text = "".join(w.text for w in words)
        name = v.parse_name(text)
        if len(words) == n and name is not None and "·" in name:
            return ValueSpan(text=text, words=words)
    return None


def _candidate_values(page: OcrPage, anchor: Anchor, spec: FieldSpec, labels: list[str]) -> list[Candidate]:
    out: list[Candidate] = []
    if normalize_text(anchor.remainder):
        out.append(Candidate(ValueSpan(text=cut_at_label(anchor.remainder, labels), words=(anchor.word,)), 0))
    join = spec.kind in (FieldKind.ID_NUMBER, FieldKind.UNIT_CODE, FieldKind.DATE, FieldKind.PHONE)
    # Free text is not joined: the pieces after a value are mostly what is left of a seal (限公司, 可).
    right = value_right(page, anchor, labels, join=join)
    if right is not None and spec.kind is FieldKind.NAME:
        right = _dotted_name(page, anchor, labels) or right
    if right is not None:
        out.append(Candidate(ValueSpan(text=cut_at_label(right.text, labels), words=right.words), 0))
    if right is not None and spec.kind is FieldKind.ORG_NAME:
        # A long name comes back in pieces (…阿克陶县自 | 来水公司): the whole row before any one piece,
        # whose tail alone can read as a name of its own.
        row = value_right(page, anchor, labels, join=True)
        if row is not None and len(row.words) > 1:
            out.append(Candidate(ValueSpan(text=cut_at_label(row.text, labels), words=row.words), 1))
            out.extend(Candidate(ValueSpan(text=w.text, words=(w,)), 4) for w in row.words)
    elif right is not None and _validated(spec):
        # A checked value may sit behind a stray mark (市 left of 女): every word of the row is tried.
        row = value_right(page, anchor, labels, join=True)
        if row is not None and len(row.words) > 1:
            out.extend(Candidate(ValueSpan(text=w.text, words=(w,)), 1) for w in row.words)
    elif spec.kind in (FieldKind.TEXT, FieldKind.CHOICE):
        # 变更项目: 联系电话 — the value of a free-text field can be a label's wording. The word to the
        # right reads as a label but has no value of its own, so it is this label's value.
        neighbour = right_neighbour(page, anchor.word)
        if neighbour is not None and neighbour.box[0] - anchor.word.box[2] < 8 * (
            anchor.word.box[3] - anchor.word.box[1]
        ):
            after = right_neighbour(page, neighbour)
            if after is None or is_label(after, labels):
                out.append(Candidate(ValueSpan(text=neighbour.text, words=(neighbour,)), 2))
    below = value_below(page, anchor, labels)
    if below is not None:
        out.append(Candidate(below, 3))
    return out


def extract_field(spec: FieldSpec, pages: Sequence[tuple[int, OcrPage]], labels: list[str]) -> ExtractedField | None:
    """The best-checked value for one field over the document's form pages, or None if no label was seen.

    Best: a value that passes its check, then the nearer position (same row before below), then the
    higher confidence.
    """
    best: ExtractedField | None = None
    best_key: tuple[bool, int, int, float] | None = None
    label_set = {normalize_text(label) for label in labels}
    for page_no, page in pages:
        for anchor in find_anchors(page, [spec.label, *spec.synonyms]):
            for cand in _candidate_values(page, anchor, spec, labels):
                span = cand.span
                if cand.rank != 2 and normalize_text(span.text) in label_set:
                    continue
                parsed = _parse(spec, span.text)
                label_trust = anchor.score / 100.0
                confidence = span.confidence * parsed.confidence_factor * (0.8 + 0.2 * label_trust)
                value = clean_text(span.text) if not _validated(spec) else span.text.strip()
                field = ExtractedField(
                    key=spec.key,
                    label=spec.label,
                    value=value,
                    normalized=parsed.normalized,
                    confidence=round(min(max(confidence, 0.0), 1.0), 4),
                    page_no=page_no,
                    box=span.box,
                    reasons=[parsed.reason] if parsed.reason else [],
                )
                # Free text on the form page outranks the attachments after it (an ID card copy prints
                # 民族 汉 for 汉族); a checked value is taken where it reads best.
                page_order = 0 if _validated(spec) else -page_no
                key = (field.normalized is not None, -cand.rank, page_order, field.confidence)
                if best_key is None or key > best_key:
                    best, best_key = field, key
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
