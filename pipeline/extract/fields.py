"""Stage 6: the fields a form prints, read from the OCR words of the document's form pages."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

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
from pipeline.extract.parse import clean_text, parse_value
from pipeline.text import normalize_text
from schemas.models import ExtractedField, FieldStatus, OcrPage
from schemas.registry import get_registry
from schemas.registry_models import FieldKind, FieldSpec, FormSpec

log = logging.getLogger(__name__)

# Free text next to a label has no check to pass; the shipped calibration was fitted on form-field
# text read this much less sure than the OCR says (bench/calibrate.py re-fits it on what is here).
_UNCHECKED = 0.95


def _own_labels(form: FormSpec) -> list[str]:
    return [label for f in form.fields for label in (f.label, *f.synonyms)]


def _labels_for(spec: FieldSpec, own: list[str]) -> list[str]:
    # Free-text values can legitimately read like a label (变更项目: 法定代表人), so only the form's own
    # labels stop them; a name, ID, date or code never looks like any label of any form.
    if spec.kind in (FieldKind.TEXT, FieldKind.CHOICE):
        return own
    return own + [label for label in get_registry().labels() if label not in own]


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
                parsed = parse_value(spec, span.text)
                label_trust = anchor.score / 100.0
                confidence = span.confidence * (0.8 + 0.2 * label_trust)
                if not parsed.checked:
                    confidence *= _UNCHECKED
                value = clean_text(span.text) if not _validated(spec) else span.text.strip()
                field = ExtractedField(
                    key=spec.key,
                    label=spec.label,
                    value=value,
                    normalized=parsed.normalized,
                    confidence=round(min(max(confidence, 0.0), 1.0), 4),
                    page_no=page_no,
                    box=span.box,
                    checks=parsed.verdicts(),
                )
                # Free text on the form page outranks the attachments after it (an ID card copy prints
                # 民族 汉 for 汉族); a checked value is taken where it reads best.
                page_order = 0 if _validated(spec) else -page_no
                key = (field.normalized is not None, -cand.rank, page_order, field.confidence)
                if best_key is None or key > best_key:
                    best, best_key = field, key
    return best


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
    out: list[ExtractedField] = []
    for spec in form.fields:
        if spec.key in found:
            out.append(found[spec.key])
        elif spec.required:
            out.append(
                ExtractedField(key=spec.key, label=spec.label, status=FieldStatus.MISSING, reasons=["not found"])
            )
    return out
