"""Person tables: the rows of forms that list several people (参保单位人员增加减少表), read from OCR words.

The table's header row gives each column's position; every line of words below it, up to the
remarks or sign-off, is one person. A word goes to the column whose parser accepts it, nearest
first, so a value written off-centre or in a cell narrower than its header still lands right. Each
row's ID number is checked (GB 11643, with the single-repair rule of the validators) and compared
with the row's own sex.

A table too long for one sheet goes on over a continuation sheet (续表). One that repeats the header
is read like the first; one without it is read with the columns of the sheet before, and only when it
is marked as a continuation (an ID-card copy after the form has names and IDs too). Its rows follow
the first sheet's, in order.
"""

from __future__ import annotations

import logging
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipeline.calibration.artefacts import decision_model
from pipeline.calibration.features import cross_checks
from pipeline.decide import decide_field
from pipeline.extract import validators as v
from pipeline.extract.anchors import find_anchors
from pipeline.separate import continuation_mark, is_continuation_mark
from pipeline.settings import DecideSettings
from schemas.models import Document, ExtractedField, OcrPage, Word
from schemas.registry_models import SEQ_KEY, FieldKind, FieldSpec, FormSpec

log = logging.getLogger(__name__)

SEQ_LABELS = ("序号",)

# Lines where the table ends: the remarks and sign-off every form closes with.
_STOP_WORDS = ("备注", "经办人", "盖章", "日期", "负责人", "审核")
_FAILED_CHECK = 0.3
# A monthly contribution base outside this range (yuan) is a misread, not a wage: 1.00 or 22005030.10.
_BASE_RANGE = (300.0, 100_000.0)
# Handwriting jitter reads as dots and commas inside a row of digits boxes.
_ID_NOISE = re.compile(r"[\s.,·:;'`\-]")
# Where OCR ran two cells together without a space: a run of digits against a run of Han characters.
_SCRIPT_CHANGE = re.compile(r"(?<=[0-9Xx.])(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])(?=[0-9])")
_MIN_HEADER_COLUMNS = 3
# A sheet number at the foot of the page (第2页 共2页), under a table with no remarks row to stop at.
_SHEET_NUMBER = re.compile(r"[第共]\s*[0-9０-９一二三四五六七八九十]{1,3}\s*页")


@dataclass(frozen=True)
class _Column:
    key: str
    spec: FieldSpec | None  # None for 序号
    centre: float
    x0: float
    x1: float


def _parse(spec: FieldSpec, raw: str) -> tuple[str | None, float, str | None, bool]:
    """(normalised, confidence factor, reason, repaired) for one cell."""
    if spec.kind is FieldKind.ID_NUMBER:
        value, repaired = v.parse_id_number(_ID_NOISE.sub("", raw))
        if value is None:
            return None, _FAILED_CHECK, "ID number fails the GB 11643 check", False
        return value, 0.9 if repaired else 1.0, "repaired OCR confusion" if repaired else None, repaired
    parsers: dict[FieldKind, Callable[[str], str | None]] = {
        FieldKind.NAME: v.parse_name,
        FieldKind.SEX: v.parse_sex,
        FieldKind.AMOUNT: v.parse_amount,
        FieldKind.DATE: lambda s: d.isoformat() if (d := v.parse_date(s)) else None,
    }
    if spec.kind is FieldKind.AMOUNT and raw.count(".") > 1:
        return None, _FAILED_CHECK, "amount has more than one decimal point", False  # two cells run together
    if spec.kind in parsers:
        value = parsers[spec.kind](raw)
        if value and spec.key == "contribution_base" and not _BASE_RANGE[0] <= float(value) <= _BASE_RANGE[1]:
            return None, _FAILED_CHECK, "contribution base outside the plausible range", False
        return (value, 1.0, None, False) if value else (None, _FAILED_CHECK, f"{spec.kind.value} not recognised", False)
    if spec.choices:
        text = raw.strip()
        hit = next((c for c in spec.choices if c == text), None) or next((c for c in spec.choices if c in text), None)
        return (hit, 1.0, None, False) if hit else (None, _FAILED_CHECK, "not one of the form's choices", False)
    text = raw.strip()
    return (text or None), 1.0, None, False


def _accepts(column: _Column, text: str) -> bool:
    """Could this word be this column's value? Used to route words, not to judge them."""
    t = text.strip()
    if column.spec is None:
        return re.fullmatch(r"\d{1,2}", t) is not None
    spec = column.spec
    if spec.kind is FieldKind.ID_NUMBER:
        return len(re.sub(r"[^0-9Xx]", "", t)) >= 15
    if spec.kind is FieldKind.TEXT and not spec.choices:
        # free text takes what no typed column wants: Han text that is not a name-looking word
        return bool(re.search(r"[\u4e00-\u9fff]", t))
    return _parse(spec, t)[0] is not None


def _header(page: OcrPage, form: FormSpec) -> tuple[list[_Column], float] | None:
    """The table's columns from its header row, and the header's bottom edge."""
    specs = form.table_columns()
    hits: list[tuple[str, FieldSpec | None, Word]] = []
    for spec in [None, *specs]:
        labels = list(SEQ_LABELS) if spec is None else [spec.label, *spec.synonyms]
        anchors = find_anchors(page, labels)
        if anchors:
            best = max(anchors, key=lambda a: a.score)
            hits.append((SEQ_KEY if spec is None else spec.key, spec, best.word))
    if len(hits) < _MIN_HEADER_COLUMNS:
        return None
    # the header is the line most column labels share; labels elsewhere on the page are dropped
    lines = sorted(hits, key=lambda h: (h[2].box[1] + h[2].box[3]) / 2)
    best_line: list[tuple[str, FieldSpec | None, Word]] = []
    for _, _, word in lines:
        mid = (word.box[1] + word.box[3]) / 2
        height = word.box[3] - word.box[1]
        line = [h for h in lines if abs((h[2].box[1] + h[2].box[3]) / 2 - mid) <= height]
        if len(line) > len(best_line):
            best_line = line
    if len(best_line) < _MIN_HEADER_COLUMNS:
        return None
    columns = sorted(
        (_Column(key, spec, (w.box[0] + w.box[2]) / 2, w.box[0], w.box[2]) for key, spec, w in best_line),
        key=lambda c: c.centre,
    )
    return columns, max(h[2].box[3] for h in best_line)


def _lines(words: list[Word]) -> list[list[Word]]:
    """Words grouped into table lines by their vertical centres."""
    if not words:
        return []
    height = statistics.median(w.box[3] - w.box[1] for w in words)
    ordered = sorted(words, key=lambda w: (w.box[1] + w.box[3]) / 2)
    lines: list[list[Word]] = [[ordered[0]]]
    for word in ordered[1:]:
        mid = (word.box[1] + word.box[3]) / 2
        current = statistics.mean((w.box[1] + w.box[3]) / 2 for w in lines[-1])
        if mid - current > 0.75 * height:
            lines.append([word])
        else:
            lines[-1].append(word)
    return [sorted(line, key=lambda w: w.box[0]) for line in lines]


def _split(word: Word, columns: list[_Column]) -> list[Word]:
    """A word OCR ran across two cells ("男 110105…", "…1234增加") back into its parts, boxes shared by
    length. Only a word whose box covers more than one column's centre is cut at a change of script."""
    parts = word.text.split()
    spans_columns = sum(word.box[0] <= c.centre <= word.box[2] for c in columns) > 1
    if spans_columns:
        parts = [piece for part in parts for piece in _SCRIPT_CHANGE.split(part) if piece]
    if len(parts) < 2:
        return [word]
    total = sum(len(p) for p in parts)
    x0, y0, x1, y1 = word.box
    out: list[Word] = []
    start = float(x0)
    for part in parts:
        end = start + (x1 - x0) * len(part) / total
        out.append(Word(text=part, box=(round(start), y0, round(end), y1), confidence=word.confidence))
        start = end
    return out


def _route(line: list[Word], columns: list[_Column]) -> dict[str, list[Word]]:
    """Column key → the words of one line that belong to it."""
    cells: dict[str, list[Word]] = {}
    first_value = next((c for c in columns if c.key != SEQ_KEY), columns[0])
    for word in (part for w in line for part in _split(w, columns)):
        mid = (word.box[0] + word.box[2]) / 2
        if re.fullmatch(r"\d{1,2}", word.text.strip()) and mid < first_value.x0:
            continue  # the row's printed or written number, header read or not
        # only the columns either side of the word may take it: a misread value must not wander off
        left = [c for c in columns if c.centre <= mid]
        right = [c for c in columns if c.centre > mid]
        near = sorted([*left[-1:], *right[:1]], key=lambda c: abs(c.centre - mid))
        taker = next((c for c in near if _accepts(c, word.text)), near[0])
        cells.setdefault(taker.key, []).append(word)
    return cells


def _cell_field(spec: FieldSpec, words: list[Word], page_no: int) -> ExtractedField:
    raw = "".join(w.text for w in sorted(words, key=lambda w: w.box[0])).strip()
    normalized, factor, reason, _repaired = _parse(spec, raw)
    confidence = min(w.confidence for w in words) * factor
    box = (
        min(w.box[0] for w in words),
        min(w.box[1] for w in words),
        max(w.box[2] for w in words),
        max(w.box[3] for w in words),
    )
    return ExtractedField(
        key=spec.key,
        label=spec.label,
        value=raw,
        normalized=normalized,
        confidence=round(min(max(confidence, 0.0), 1.0), 4),
        page_no=page_no,
        box=box,
        reasons=[reason] if reason else [],
    )


def _cross_check(row: dict[str, ExtractedField]) -> None:
    """The sex inside a row's ID number must agree with the row's own sex column."""
    ident, sex = row.get("id_number"), row.get("sex")
    if ident is None or sex is None or ident.normalized is None or sex.normalized is None:
        return
    if v.id_sex(ident.normalized) == sex.normalized:
        for f in (ident, sex):
            f.confidence = round(1 - (1 - f.confidence) * 0.5, 4)
    else:
        for f in (ident, sex):
            f.confidence = round(f.confidence * 0.5, 4)
            f.reasons.append("sex disagrees with the ID number")


def _is_stop(line: list[Word]) -> bool:
    text = "".join(w.text for w in line)
    return any(stop in text for stop in _STOP_WORDS)


def _is_person(row: dict[str, ExtractedField]) -> bool:
    """A line that surely holds a person: a name or an ID number that reads as one. Above the first such
    line a sheet without its header has only its title and marks."""
    ident, name = row.get("id_number"), row.get("name")
    return (ident is not None and len(re.sub(r"[^0-9Xx]", "", ident.value or "")) >= 15) or (
        name is not None and name.normalized is not None
    )


def _page_rows(
    page_no: int, page: OcrPage, columns: list[_Column], header_bottom: float | None
) -> list[list[ExtractedField]]:
    """The rows under the header (ending at `header_bottom`), or, for a continuation sheet without its
    header (None), from the first line that holds a person."""
    left = columns[0].x0 - (columns[1].centre - columns[0].centre)
    right = columns[-1].x1 + (columns[-1].centre - columns[-2].centre)
    top = header_bottom - 2 if header_bottom is not None else 0
    # the marks of a continuation sheet (续表, the title with （续）, 第2页) would read as a name or an ID
    below = [
        w
        for w in page.words
        if w.box[1] >= top
        and left <= (w.box[0] + w.box[2]) / 2 <= right
        and not is_continuation_mark(w, page.height)
        and not _SHEET_NUMBER.search(w.text)
    ]
    specs = {c.key: c.spec for c in columns}
    rows: list[list[ExtractedField]] = []
    started = header_bottom is not None
    for line in _lines(below):
        if started and _is_stop(line):
            break
        cells = _route(line, columns)
        row = {
            key: _cell_field(spec, words, page_no)
            for key, words in cells.items()
            if (spec := specs.get(key)) is not None
        }
        # a person is there when a name or an ID is; lines of stray marks are not rows
        if "id_number" not in row and "name" not in row:
            continue
        if not started and not _is_person(row):
            continue
        started = True
        _cross_check(row)
        rows.append([row[c.key] for c in columns if c.key in row])
    return rows


def extract_table_rows(form: FormSpec, pages: Sequence[tuple[int, OcrPage]]) -> list[list[ExtractedField]]:
    """Every person row of the form's table, top to bottom, page after page (empty: the form has no table).

    `pages` are (page number within the document, OCR result), as for `extract_fields`, blank pages left
    out. A page without the table's header continues the table of the page before when it is marked as
    a continuation sheet; its rows are read in that page's columns.
    """
    if not form.table_columns():
        return []
    rows: list[list[ExtractedField]] = []
    carried: list[_Column] | None = None  # the columns of the table on the page before
    for page_no, page in pages:
        found = _header(page, form)
        if found is not None:
            carried = found[0]
            rows.extend(_page_rows(page_no, page, *found))
        elif carried is not None and (mark := continuation_mark(page)) is not None:
            log.debug("page %d continues the table without its header (%s)", page_no, mark)
            rows.extend(_page_rows(page_no, page, carried, None))
        else:
            carried = None
    log.debug("form %s: %d table rows", form.form_id, len(rows))
    return rows


def mirror_first_row(fields: list[ExtractedField], rows: list[list[ExtractedField]]) -> list[ExtractedField]:
    """Document fields with the table's columns taken from its first row: the person the record is filed
    under. The table reading wins over a label-anchored one because it knows which cell is which."""
    if not rows:
        return fields
    first = {f.key: f for f in rows[0] if f.normalized is not None}
    out = [first.pop(f.key) if f.key in first else f for f in fields]
    out.extend(first.values())
    return out


def decide_rows(doc: Document, form: FormSpec | None, settings: DecideSettings) -> Document:
    """Each row cell accepted or left for review by the same calibrated rule as the document's fields.

    A row cell in review flags the cell only: the rows are listed for search, and the document's own
    routing already covers the first row through the fields it mirrors.
    """
    if form is None or not doc.table_rows:
        return doc
    model = decision_model(settings)
    specs = {s.key: s for s in form.fields}
    decided = []
    for row in doc.table_rows:
        cross = cross_checks(row)
        decided.append([decide_field(f, specs.get(f.key), cross.get(f.key, "absent"), model, settings) for f in row])
    return doc.model_copy(update={"table_rows": decided})
