"""Person tables (one row per person a unit adds or removes) and their continuation sheets (续表).

Column widths are this family's own: the narrow ones make headers such as 增减年月 or 缴费基数 wrap.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from schemas.registry_models import FieldSpec, FormSpec
from synth.html.hand import esc, written
from synth.html.people import html_case
from synth.html.style import SheetStyle
from synth.values import Case, FieldValue, field_value, format_date, random_date

_WIDTHS_MM = {
    "seq": (8, 11),
    "name": (18, 26),
    "sex": (8, 11),
    "id_number": (40, 50),
    "change_type": (10, 15),
    "change_date": (19, 26),
    "contribution_base": (16, 24),
    "change_reason": (16, 26),
}
_OPTIONAL = {"sex": 0.6, "change_reason": 0.6, "change_date": 0.9}
_REASONS = {"增加": ("新参保", "调入", "新招用", "转入"), "减少": ("调出", "辞职", "退休", "死亡", "解除劳动合同")}
_CONT_TITLES = ("（续）", "（续表）", "(续)", "续页")
_CONT_MARKERS = ("续表", "续表：", "（接上页）", "接上表")


@dataclass(frozen=True)
class PersonTable:
    columns: tuple[tuple[FieldSpec | None, str, float], ...]  # spec (None: 序号), printed label, width mm
    rows: tuple[dict[str, FieldValue], ...]  # every person, those on the continuation sheet included
    first_sheet_rows: int  # rows the first sheet prints (filled or empty)


def _row(spec: FieldSpec, case: Case, person_case: Case, change_type: str, rng: random.Random) -> FieldValue:
    """One cell: the row's person as the first family draws values, the change's kind and day as this
    table has them (a change the unit reports within two months)."""
    if spec.key == "change_type":
        return FieldValue(change_type, change_type)
    if spec.key == "change_date":
        d = random_date(rng, case.form_date - timedelta(days=60), case.form_date)
        return FieldValue(format_date(d, rng.choice(("dot", "dash", "dot_short", "cn"))), d.isoformat())
    if spec.key == "change_reason":
        reason = rng.choice(_REASONS.get(change_type, ("其他",)))
        return FieldValue(reason, reason)
    value = field_value(spec, person_case, rng)
    return FieldValue(value.printed, value.normalised)  # never boxed: a table cell has no digit boxes


def person_table(form: FormSpec, case: Case, rng: random.Random, overflow: bool) -> PersonTable | None:
    """2–7 people on the first sheet; with `overflow`, the sheet is full and 1–8 more follow."""
    specs = [s for s in form.table_columns() if rng.random() < _OPTIONAL.get(s.key, 1.0)]
    if not specs:
        return None
    columns: list[tuple[FieldSpec | None, str, float]] = [(None, rng.choice(("序号", "序号", "编号")), 0.0)]
    for s in specs:
        columns.append((s, rng.choice(s.synonyms) if s.synonyms and rng.random() < 0.35 else s.label, 0.0))
    columns = [(s, label, rng.uniform(*_WIDTHS_MM[s.key if s else "seq"])) for s, label, _ in columns]
    printed = rng.randint(6, 10)
    count = printed + rng.randint(1, 8) if overflow else rng.randint(2, min(7, printed))
    kind = rng.choice(("增加", "减少"))
    rows = []
    for i in range(count):
        person_case = case if i == 0 else html_case(rng)[0]
        row_kind = kind if rng.random() < 0.85 else rng.choice(("增加", "减少"))
        rows.append({s.key: _row(s, case, person_case, row_kind, rng) for s in specs})
    return PersonTable(tuple(columns), tuple(rows), printed)


def _header(table: PersonTable) -> str:
    cells = "".join(f'<td class="lab" style="text-align:center">{esc(label)}</td>' for _, label, _ in table.columns)
    return f'<tr style="height:11mm">{cells}</tr>'


def _body(table: PersonTable, indices: range, style: SheetStyle, rng: random.Random, height: float) -> str:
    numbered = rng.random() < 0.5  # empty rows printed with their numbers, or left for the clerk
    out = []
    for i in indices:
        row = table.rows[i] if i < len(table.rows) else None
        cells = []
        for spec, _, col_mm in table.columns:
            if spec is None:
                text = str(i + 1) if row is not None or numbered else ""
                cells.append(f'<td style="text-align:center">{text}</td>')
                continue
            value = row.get(spec.key) if row is not None else None
            inner = ""
            if value is not None:
                inner = written(value.printed, style.applicant, rng, scale=0.82, room_mm=col_mm - 2.5)
            cells.append(f"<td>{inner}</td>")
        out.append(f'<tr style="height:{height:.1f}mm">{"".join(cells)}</tr>')
    return "".join(out)


def _colgroup(table: PersonTable) -> str:
    return "<colgroup>" + "".join(f'<col style="width:{w:.0f}mm">' for _, _, w in table.columns) + "</colgroup>"


def table_html(table: PersonTable, style: SheetStyle, rng: random.Random, footer: str | None) -> str:
    """The table on the first sheet: its header, the people who fit, empty rows up to the sheet's size."""
    rows = range(table.first_sheet_rows)
    body = _body(table, rows, style, rng, rng.uniform(9.0, 11.0))
    foot = f'<div style="text-align:center;font-size:9pt;margin-top:2mm">{footer}</div>' if footer else ""
    return f'<table class="f" style="margin-top:3mm">{_colgroup(table)}{_header(table)}{body}</table>{foot}'


def continuation_page(table: PersonTable, title: str, style: SheetStyle, rng: random.Random, numbered: bool) -> str:
    """The second sheet: more rows in the same columns, marked as a continuation in at least one way."""
    header = rng.random() < 0.55
    sheet_title = title + rng.choice(_CONT_TITLES) if rng.random() < 0.4 else None
    marker = rng.choice(_CONT_MARKERS) if rng.random() < 0.5 or not (header or sheet_title or numbered) else None
    parts = []
    if sheet_title:
        parts.append(
            f'<div style="text-align:center;font-family:{style.title_font};font-weight:{style.title_weight};'
            f'font-size:{style.title_pt * 0.85:.1f}pt;margin-bottom:4mm">{esc(sheet_title)}</div>'
        )
    if marker:
        side = "right" if rng.random() < 0.3 else "left"
        parts.append(f'<div style="text-align:{side};margin-bottom:2mm">{esc(marker)}</div>')
    end = max(len(table.rows), table.first_sheet_rows + rng.randint(6, 14))
    rows = range(table.first_sheet_rows, end)
    head = _header(table) if header else ""
    body = _body(table, rows, style, rng, rng.uniform(9.0, 11.0))
    parts.append(f'<table class="f">{_colgroup(table)}{head}{body}</table>')
    if numbered:
        parts.append('<div style="text-align:center;font-size:9pt;margin-top:3mm">第2页 共2页</div>')
    page_style = (
        f"padding:{style.margin_mm[0]:.0f}mm {style.margin_mm[1]:.0f}mm;font-family:{style.label_font};"
        f"font-size:{style.label_pt:.1f}pt;--rule:{style.rule_px:.2f}px;--lab-align:center;--lab-last:auto"
    )
    return f'<div class="page" style="{page_style}"><div class="fit">{"".join(parts)}</div></div>'
