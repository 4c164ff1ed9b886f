"""A registry form as an HTML sheet, laid out one of four ways.

- grid: label cells beside value cells, one to three pairs a row; narrow label cells make long labels
  (统一社会信用代码, 解除劳动关系日期) wrap over two or three lines by themselves;
- above: each cell holds its label on top and the value under it;
- sections: the grid with merged section cells (单位信息, 个人信息 …) written top to bottom;
- blanks: no table, values written on underlined blanks after their labels.
Then a signature block (signatures, seal, often the form's date) and footnotes that quote labels.
"""

from __future__ import annotations

import random

from schemas.registry_models import FieldKind
from synth.html.entries import Entry, sections
from synth.html.hand import esc, signature, written
from synth.html.notes import notes_block
from synth.html.sheet import seal
from synth.html.style import Hand, SheetStyle
from synth.values import Case, han_name

_AUTHORITIES = (
    "克孜勒苏柯尔克孜自治州社会保险管理局",
    "阿图什市人力资源和社会保障局",
    "克州社会保险事业管理局",
    "新疆维吾尔自治区社会保险管理局",
    "北京市社会保险基金管理中心",
    "阿克陶县社会保险管理局",
)
_CLERK_DATE_WORDS = ("审", "核", "经办", "批")


def hand_for(entry: Entry, style: SheetStyle) -> Hand:
    """The office fills in its own dates (审核日期, 核定日期); the applicant everything else."""
    if entry.spec.kind is FieldKind.DATE and any(w in entry.label for w in _CLERK_DATE_WORDS):
        return style.clerk
    return style.applicant


def value_html(
    entry: Entry, style: SheetStyle, rng: random.Random, scale: float = 1.0, room_mm: float | None = None
) -> str:
    """The value as written into a cell that leaves `room_mm` (None: as much as it needs)."""
    if entry.value is None:
        return ""
    hand = hand_for(entry, style)
    day = entry.day()
    if entry.key == "id_number" and style.boxed_id and (room_mm is None or room_mm > 86):
        digits = "".join(f"<b>{written(c, hand, rng, scale=0.85 * scale)}</b>" for c in entry.value.printed)
        return f'<span class="boxes">{digits}</span>'
    if day is not None and style.split_date:
        parts = (str(day.year), str(day.month), str(day.day))
        blanks = [
            f'<span class="blank" style="min-width:{w}mm">{written(p, hand, rng, scale=scale)}</span>{u}'
            for p, w, u in zip(parts, (13, 7, 7), "年月日", strict=True)
        ]
        return "".join(blanks)
    if entry.spec.choices and style.checkboxes and entry.key not in ("change_item",):
        opts = []
        for choice in entry.spec.choices:
            tick = ""
            if choice == entry.value.printed:
                tick = f'<span style="position:absolute;left:0.2mm;top:-1.6mm">{written("√", hand, rng)}</span>'
            opts.append(f'<span style="position:relative;white-space:nowrap">□{tick}{esc(choice)}</span>')
        return " ".join(opts)
    return written(entry.value.printed, hand, rng, scale=scale, room_mm=room_mm)


def _label(entry: Entry, colon: bool) -> str:
    return esc(entry.label) + ("：" if colon else "")


def _content_mm(style: SheetStyle) -> float:
    return 210.0 - 2 * style.margin_mm[1]


def _pair_rows(
    entries: list[Entry], style: SheetStyle, rng: random.Random, height: float, width_mm: float
) -> list[str]:
    """Table rows of label/value cell pairs; a wide field or the last of a row takes the rest of the row."""
    value_mm = (width_mm - style.pairs * style.label_mm) / style.pairs
    rows: list[str] = []
    current: list[Entry] = []
    colon = rng.random() < 0.2

    def flush() -> None:
        if not current:
            return
        cells = []
        for i, e in enumerate(current):
            span = 1 if i < len(current) - 1 else 2 * (style.pairs - len(current)) + 1
            room = value_mm * (span + 1) / 2 + style.label_mm * (span - 1) / 2 - 3
            value = value_html(e, style, rng, room_mm=room)
            cells.append(f'<td class="lab">{_label(e, colon)}</td><td colspan="{span}">{value}</td>')
        rows.append(f'<tr style="height:{height:.1f}mm">{"".join(cells)}</tr>')
        current.clear()

    for e in entries:
        if e.wide:
            flush()
            current.append(e)
            flush()
            continue
        current.append(e)
        if len(current) == style.pairs:
            flush()
    flush()
    return rows


def _cols(style: SheetStyle, section_mm: float | None) -> str:
    cols = [f'<col style="width:{section_mm:.0f}mm">'] if section_mm else []
    for _ in range(style.pairs):
        cols += [f'<col style="width:{style.label_mm:.0f}mm">', "<col>"]
    return f"<colgroup>{''.join(cols)}</colgroup>"


def _table_open(style: SheetStyle, height_mm: float | None) -> str:
    """Forms are drawn to fill the sheet: the table gets a height and its rows share it."""
    cls = "f double" if style.outer_double else "f"
    return f'<table class="{cls}" style="height:{height_mm:.0f}mm">' if height_mm else f'<table class="{cls}">'


def grid_table(entries: list[Entry], style: SheetStyle, rng: random.Random, height_mm: float | None = None) -> str:
    rows = _pair_rows(entries, style, rng, rng.uniform(9.5, 13.0), _content_mm(style))
    return f"{_table_open(style, height_mm)}{_cols(style, None)}{''.join(rows)}</table>"


def sections_table(
    entries: list[Entry], title: str, style: SheetStyle, rng: random.Random, height_mm: float | None = None
) -> str:
    height = rng.uniform(9.5, 12.5)
    section_mm = rng.uniform(8.0, 11.0)
    body = []
    for name, group in sections(entries, title):
        rows = _pair_rows(group, style, rng, height, _content_mm(style) - section_mm)
        head = f'<td class="sec" rowspan="{len(rows)}"><div class="vert">{esc(name)}</div></td>'
        body.append(rows[0].replace(">", ">" + head, 1))
        body.extend(rows[1:])
    return f"{_table_open(style, height_mm)}{_cols(style, section_mm)}{''.join(body)}</table>"


def above_table(entries: list[Entry], style: SheetStyle, rng: random.Random, height_mm: float | None = None) -> str:
    n = style.pairs
    colon = rng.random() < 0.3
    rows: list[str] = []
    current: list[str] = []
    height = rng.uniform(13.0, 17.0)

    def flush(last_span: int) -> None:
        if current:
            current[-1] = current[-1].replace("<td>", f'<td colspan="{last_span}">', 1)
            rows.append(f'<tr style="height:{height:.1f}mm">{"".join(current)}</tr>')
            current.clear()

    cell_mm = _content_mm(style) / n - 3
    for e in entries:
        room = cell_mm * (n if e.wide else 1)
        cell = f'<td><span class="cap">{_label(e, colon)}</span>{value_html(e, style, rng, room_mm=room)}</td>'
        if e.wide:
            flush(n - len(current) + 1)
            current.append(cell)
            flush(n)
            continue
        current.append(cell)
        if len(current) == n:
            flush(1)
    flush(n - len(current) + 1)
    cols = "".join("<col>" for _ in range(n))
    return f"{_table_open(style, height_mm)}<colgroup>{cols}</colgroup>{''.join(rows)}</table>"


def blank_lines(entries: list[Entry], style: SheetStyle, rng: random.Random) -> str:
    per_line = max(1, min(style.pairs, 3))
    lines: list[str] = []
    current: list[str] = []
    width = _content_mm(style) - 4 * (per_line - 1)

    def item(e: Entry, share: float) -> str:
        room = max(24.0, width * share - (len(e.label) + 1) * style.label_pt * 0.3528 - 3)
        value = value_html(e, style, rng, room_mm=room - 2)
        return (
            f'<span class="item"><span>{esc(e.label)}：</span>'
            f'<span class="blank" style="min-width:{room:.0f}mm">{value}</span></span>'
        )

    for e in entries:
        if e.wide:
            if current:
                lines.append(f'<div class="line">{"".join(current)}</div>')
                current = []
            lines.append(f'<div class="line">{item(e, 1.0)}</div>')
            continue
        current.append(item(e, 1.0 / per_line))
        if len(current) == per_line:
            lines.append(f'<div class="line">{"".join(current)}</div>')
            current = []
    if current:
        lines.append(f'<div class="line">{"".join(current)}</div>')
    gap = rng.uniform(3.0, 7.5)
    return f'<div class="blanks" style="--gap:{gap:.1f}mm">{"".join(lines)}</div>'


def title_block(title: str, style: SheetStyle, rng: random.Random) -> str:
    parts = []
    if style.form_code:
        code = (
            rng.choice(("表号：", "附表", "")) + f"{rng.choice(('克人社', '社保', '人社'))}{rng.randint(1, 30):02d}表"
        )
        parts.append(f'<div style="text-align:right;font-size:9pt">{esc(code)}</div>')
    if style.authority:
        parts.append(
            f'<div style="text-align:center;font-size:12pt;margin:1mm 0">{esc(rng.choice(_AUTHORITIES))}</div>'
        )
    deco = {"none": "none", "under": "underline", "double": "underline double"}[style.title_rule]
    # a designer sets a long title smaller so it stays on one line, down to a size still read as a title
    room = _content_mm(style) - len(title) * style.title_spacing_mm - 4
    size = max(14.0, min(style.title_pt, room / (len(title) * 25.4 / 72)))
    parts.append(
        f'<div class="title" style="text-align:center;font-family:{style.title_font};font-weight:{style.title_weight};'
        f"font-size:{size:.1f}pt;letter-spacing:{style.title_spacing_mm}mm;text-decoration:{deco};"
        f'text-underline-offset:1.5mm;margin:2mm 0 4mm">{esc(title)}</div>'
    )
    if style.serial:
        no = f"{rng.randint(10**7, 10**9 - 1)}"
        left = rng.choice(("编号：", "受理号：", "业务流水号："))
        parts.append(
            f'<div style="display:flex;justify-content:space-between;font-size:10pt;margin-bottom:1.5mm">'
            f"<span>{left}{no}</span><span>{rng.choice(('单位：元', '', '第1页'))}</span></div>"
        )
    return "".join(parts)


def sign_block(case: Case, date_entry: Entry | None, style: SheetStyle, rng: random.Random) -> str:
    """Who signed, the seal over the unit's signature and, when it is printed here, the form's date."""
    applicant = rng.choice(("申请人（签字）：", "经办人（签字）：", "填表人：", "参保人签字："))
    clerk = rng.choice(("经办人：", "审核人：", "复核人：", "受理人："))
    signer = style.clerk if style.applicant.typed else style.applicant  # a signature is never typed
    cells = [
        f"<span>{applicant}{signature(case.person.name, signer, rng)}</span>",
        f"<span>{clerk}{signature(han_name(rng), style.clerk, rng)}</span>",
    ]
    if rng.random() < 0.5:
        cells.append("<span>单位（盖章）</span>")
    row = f'<div class="line" style="justify-content:space-between;margin-top:5mm">{"".join(cells)}</div>'
    when = ""
    if date_entry is not None:
        when = (
            f'<div class="line" style="justify-content:flex-end"><span>{esc(date_entry.label)}：</span>'
            f"{value_html(date_entry, style, rng)}</div>"
        )
    elif rng.random() < 0.5:
        when = '<div class="line" style="justify-content:flex-end"><span>年　　月　　日</span></div>'
    stamp = seal(case.unit.name, rng, rng.uniform(95, 140), rng.uniform(-14, -4)) if rng.random() < 0.55 else ""
    return f'<div style="position:relative">{row}{when}{stamp}</div>'


def form_page(
    title: str, entries: list[Entry], style: SheetStyle, case: Case, rng: random.Random, extra: str = ""
) -> str:
    """One A4 form sheet; `extra` is a person table printed under the fields."""
    date_entry = next((e for e in entries if e.key == "form_date"), None)
    bottom_date = date_entry is not None and rng.random() < 0.5
    body_entries = [e for e in entries if not (bottom_date and e.key == "form_date")]
    height = None if extra else rng.uniform(95, 165)  # a person table below takes the rest of the sheet
    if style.layout == "grid":
        body = grid_table(body_entries, style, rng, height)
    elif style.layout == "sections":
        body = sections_table(body_entries, title, style, rng, height)
    elif style.layout == "above":
        body = above_table(body_entries, style, rng, height)
    else:
        body = blank_lines(body_entries, style, rng)
    last = {"left": ("left", "auto"), "center": ("center", "auto"), "justify": ("justify", "justify")}
    align, align_last = last[rng.choice(("left", "center", "justify", "center"))]
    page_style = (
        f"padding:{style.margin_mm[0]:.0f}mm {style.margin_mm[1]:.0f}mm;font-family:{style.label_font};"
        f"font-size:{style.label_pt:.1f}pt;--rule:{style.rule_px:.2f}px;--lab-align:{align};--lab-last:{align_last};"
        # some clerks write right up against the cell's rule, which a recogniser may read as 丨 or 1
        f"--pad:{rng.choice((0.3, 0.6, 1.2, 1.2, 1.6)):.1f}mm"
    )
    sign = sign_block(case, date_entry if bottom_date else None, style, rng)
    notes = notes_block(entries, style, rng)
    return (
        f'<div class="page" style="{page_style}"><div class="fit">{title_block(title, style, rng)}{body}{extra}'
        f"{sign}{notes}</div></div>"
    )
