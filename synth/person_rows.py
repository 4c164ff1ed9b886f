"""The people on a form's person table, and how its continuation sheet (续表) carries on the table.

The columns are the registry's (`FormSpec.table_columns`); which of the optional ones a form prints, how
wide each is and what the people changed are the generator's own choices.
"""

from __future__ import annotations

import random
from datetime import timedelta

from schemas.registry_models import SEQ_KEY, FieldSpec, FormSpec
from synth.forms import ContinuationMarks, PersonTable
from synth.values import Case, FieldValue, field_value, format_amount, format_date, make_case, random_date

# Share of the table's width per column; the ID column is widest because 18 digits are written by hand.
_COLUMN_WIDTHS = {
    SEQ_KEY: 5.0,
    "name": 13.0,
    "sex": 6.0,
    "id_number": 30.0,
    "change_type": 9.0,
    "change_date": 18.0,
    "contribution_base": 13.0,
    "change_reason": 14.0,
}
_OPTIONAL_COLUMNS = {"sex": 0.7, "change_reason": 0.5}  # chance the form prints the column
_REASONS = {"增加": ["新参保", "调入", "新招录", "续保"], "减少": ["调出", "离职", "退休", "死亡", "解除劳动合同"]}
ONLY_IN_THE_ID = {"birth_date"}  # a person table prints no birth date column: the ID number holds it


def _row_value(spec: FieldSpec, case: Case, row_case: Case, change_type: str, rng: random.Random) -> FieldValue:
    p = row_case.person
    if spec.key == "name":
        return FieldValue(p.name, p.name)
    if spec.key == "sex":
        return FieldValue(p.sex, p.sex)
    if spec.key == "id_number":
        return FieldValue(p.id_number, p.id_number.upper())
    if spec.key == "change_type":
        return FieldValue(change_type, change_type)
    if spec.key == "change_date":
        d = random_date(rng, case.form_date - timedelta(days=90), case.form_date)
        return FieldValue(format_date(d, case.date_style), d.isoformat())
    if spec.key == "contribution_base":
        value = float(rng.randint(20, 300) * 100) if rng.random() < 0.5 else round(rng.uniform(2000, 30000), 2)
        return FieldValue(format_amount(rng, value), f"{value:.2f}")
    if spec.key == "change_reason":
        reason = rng.choice(_REASONS.get(change_type, ["其他"]))
        return FieldValue(reason, reason)
    return field_value(spec, row_case, rng)


def person_table(form: FormSpec, case: Case, rng: random.Random) -> PersonTable | None:
    """2–8 people changed by one unit on one form; the first is the document's own person."""
    specs = [s for s in form.table_columns() if rng.random() < _OPTIONAL_COLUMNS.get(s.key, 1.0)]
    if not specs:
        return None
    chosen = [
        (SEQ_KEY, "序号"),
        *((s.key, rng.choice(s.synonyms) if s.synonyms and rng.random() < 0.4 else s.label) for s in specs),
    ]
    total = sum(_COLUMN_WIDTHS[k] for k, _ in chosen)
    columns = tuple((k, label, _COLUMN_WIDTHS[k] / total) for k, label in chosen)
    change_type = rng.choice(["增加", "减少"])
    rows = []
    for i in range(rng.randint(2, 8)):
        row_case = case if i == 0 else make_case(rng)
        kind = change_type if rng.random() < 0.8 else rng.choice(["增加", "减少"])
        rows.append({s.key: _row_value(s, case, row_case, kind, rng) for s in specs})
    return PersonTable(columns, tuple(rows), max(len(rows), rng.randint(5, 9)))


_TITLE_MARKS = ("（续）", "（续表）", "(续)", "（续页）")
_MARKERS = ("续表", "（续）", "续表：", "（续上页）", "接上页")


def overflow(table: PersonTable, form: FormSpec, case: Case, rng: random.Random) -> tuple[PersonTable, range]:
    """More people than the first sheet holds: it is filled, and 1–6 more go on a continuation sheet.
    Returns the table with every row and the row indices the continuation sheet prints."""
    printed = {key for key, _, _ in table.columns}
    specs = [s for s in form.table_columns() if s.key in printed]
    first = table.rows[0].get("change_type")
    change_type = first.normalised if first is not None else rng.choice(["增加", "减少"])
    rows = list(table.rows)
    total = table.printed_rows + rng.randint(1, 6)
    while len(rows) < total:
        row_case = make_case(rng)
        kind = change_type if rng.random() < 0.8 else rng.choice(["增加", "减少"])
        rows.append({s.key: _row_value(s, case, row_case, kind, rng) for s in specs})
    left = total - table.printed_rows
    return PersonTable(table.columns, tuple(rows), table.printed_rows), range(
        table.printed_rows, table.printed_rows + max(left, rng.randint(6, 14))
    )


def continuation_marks(title: str, rng: random.Random) -> tuple[ContinuationMarks, str | None]:
    """How a continuation sheet says it continues, and the footer of the first sheet (第1页 共2页) when
    the vendor numbers sheets. A sheet without its header always carries some mark."""
    header = rng.random() < 0.5
    numbered = rng.random() < 0.3
    roll = rng.random()
    sheet_title: str | None = None
    if roll < 0.3:
        sheet_title = title + rng.choice(_TITLE_MARKS)
    elif roll < 0.4:
        sheet_title, numbered = title, True  # the title again, plain: only the sheet numbers tell
    marker = rng.choice(_MARKERS) if rng.random() < 0.5 else None
    if not header and marker is None and not numbered and sheet_title is None:
        marker = rng.choice(_MARKERS)
    marks = ContinuationMarks(
        title=sheet_title,
        marker=marker,
        marker_right=rng.random() < 0.3,
        page_footer="第2页 共2页" if numbered else None,
        header=header,
    )
    return marks, "第1页 共2页" if numbered else None
