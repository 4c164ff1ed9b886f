"""Person tables: the rows of forms that list several people (参保单位人员增加减少表), read from OCR words.

The table's header row gives each column's position; every line of words below it, up to the
remarks or sign-off, is one person. A word goes to the column whose parser accepts it, nearest
first, so a value written off-centre or in a cell narrower than its header still lands right. A cell
is parsed as a form field of its kind is (extract/parse.py); each row is cross-checked as one person.

A table too long for one sheet goes on over a continuation sheet (续表). One that repeats the header
is read like the first; one without it is read with the columns of the sheet before, and only when it
is marked as a continuation (an ID-card copy after the form has names and IDs too). Its rows follow
the first sheet's, in order.
"""

from __future__ import annotations

import logging
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.extract.anchors import find_anchors
from pipeline.extract.checks import cross_check
from pipeline.extract.parse import parse_value
from pipeline.separate import continuation_mark, is_continuation_mark
from schemas.models import ExtractedField, OcrPage, Word
from schemas.registry import get_registry
from schemas.registry_models import SEQ_KEY, FieldKind, FieldSpec, FormSpec

log = logging.getLogger(__name__)

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
    return parse_value(spec, t).normalized is not None


def _header(page: OcrPage, form: FormSpec) -> tuple[list[_Column], float] | None:
    """The table's columns from its header row, and the header's bottom edge."""
    specs = form.table_columns()
    hits: list[tuple[str, FieldSpec | None, Word]] = []
    for spec in [None, *specs]:
        labels = get_registry().person_tables.row_number_labels if spec is None else [spec.label, *spec.synonyms]
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
    parsed = parse_value(spec, raw)
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
        normalized=parsed.normalized,
        confidence=round(min(w.confidence for w in words), 4),
        page_no=page_no,
        box=box,
        checks=parsed.verdicts(),
    )


def _is_stop(line: list[Word]) -> bool:
    text = "".join(w.text for w in line)
    return any(stop in text for stop in get_registry().person_tables.end_words)


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
        rows.append(cross_check([row[c.key] for c in columns if c.key in row]))
    return rows


def extract_table_rows(form: FormSpec, pages: Sequence[tuple[int, OcrPage]]) -> list[list[ExtractedField]]:
    """Every person row of the form's table, top to bottom, page after page (empty: the form has no table).

    `pages` are (page number within the document, OCR result), as for `extract_fields`, blank pages left
    out. A page without the table's header continues the table of the page before when it is marked as
    a continuation sheet; its rows are read in that page's columns.
    """
    if not form.person_table:
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
