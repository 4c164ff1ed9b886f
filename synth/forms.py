"""Ruled table forms filled in by hand, and the continuation sheets (续表) of their person tables."""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image

from schemas.registry_models import FieldKind, FieldSpec
from synth.fonts import PRINT_FONTS, TITLE_FONTS, FontRef, fit_size, font
from synth.marks import PEN_INKS, SEAL_FOOTERS, Ink, hand_text, seal_mask, signature, stamp
from synth.sheet import Sheet, write_value
from synth.values import Case, FieldValue, format_date

_FULL_WIDTH_KEYS = {"id_number", "unit_name", "unit_code", "address"}
_FOOTNOTES = [
    "注：本表一式两份，单位和社会保险经办机构各存一份。",
    "注：请用黑色或蓝色钢笔、签字笔填写，字迹清楚。",
    "说明：带*号的项目为必填项。",
]


@dataclass(frozen=True)
class FilledField:
    spec: FieldSpec
    label: str
    value: FieldValue | None  # None: the clerk left it blank


@dataclass(frozen=True)
class PersonTable:
    """A table of people on one form: printed header, filled rows, then the empty rows left over."""

    columns: tuple[tuple[str, str, float], ...]  # (field key or "seq", header as printed, share of width)
    rows: tuple[dict[str, FieldValue], ...]
    printed_rows: int  # rows the form's first sheet has room for; rows past them go on a continuation sheet


@dataclass(frozen=True)
class SheetStyle:
    """How a form was printed and filled in: what its continuation sheet (续表) shares with the first
    sheet, since both come from the same template and the same clerk's pen."""

    margin_mm: float
    row_mm: float
    line: Ink
    pen: Ink
    label_ref: FontRef
    title_ref: FontRef
    hand_pt: float
    title_pt: float


@dataclass(frozen=True)
class ContinuationMarks:
    """What tells a reader that a sheet continues the one before it."""

    title: str | None  # the form title, usually with （续）; None: the sheet repeats no title
    marker: str | None  # 续表, （续） … printed above the table
    marker_right: bool  # the marker sits at the right edge instead of the left
    page_footer: str | None  # 第2页 共2页 at the foot of the sheet
    header: bool  # the table's column header is printed again


def _is_full_width(f: FilledField) -> bool:
    if f.spec.key in _FULL_WIDTH_KEYS or f.spec.kind in (FieldKind.ID_NUMBER, FieldKind.UNIT_CODE):
        return True
    return f.value is not None and len(f.value.printed) > 11


def _rows(fields: list[FilledField]) -> list[list[FilledField]]:
    """Pair short fields two to a row; long ones (IDs, names of units, addresses) get a row alone."""
    rows: list[list[FilledField]] = []
    pending: FilledField | None = None
    for f in fields:
        if _is_full_width(f):
            if pending is not None:
                rows.append([pending])
                pending = None
            rows.append([f])
        elif pending is not None:
            rows.append([pending, f])
            pending = None
        else:
            pending = f
    if pending is not None:
        rows.append([pending])
    return rows


def _person_table(
    page: Sheet,
    table: PersonTable,
    rows: range,
    top: float,
    box: tuple[float, float, float],
    inks: tuple[Ink, Ink],
    label_ref: FontRef,
    rng: random.Random,
    hand_px: int,
    header: bool = True,
) -> float:
    """Draw the person table below `top`: its header (unless `header` is False), then one printed row
    per index of `rows`, filled while the index is one of the table's people. Returns the bottom edge."""
    margin, width, row_h = box
    line, pen = inks
    thin = max(1, round(page.dpi / 160))
    edges = [margin]
    for _, _, share in table.columns:
        edges.append(edges[-1] + width * share)
    y = top
    lines: list[int | None] = [*([None] if header else []), *rows]
    for index in lines:
        for (key, label, _), x0, x1 in zip(table.columns, edges, edges[1:], strict=False):
            cell = (x0, y, x1, y + row_h)
            if index is None:
                page.text_fit(((x0 + x1) / 2, y + row_h / 2), label, label_ref, 10, x1 - x0 - page.px(1.5), line, "mm")
            elif index < len(table.rows):
                value = table.rows[index].get(key)
                if key == "seq":
                    value = FieldValue(str(index + 1), str(index + 1))
                if value is not None:
                    write_value(page, cell, value, pen, line, rng, hand_px)
        for x in edges[1:-1]:
            page.draw.line((x, y, x, y + row_h), fill=line, width=thin)
        y += row_h
        page.draw.line((margin, y, margin + width, y), fill=line, width=thin)
    return y


def render_form(
    title: str,
    fields: list[FilledField],
    case: Case,
    rng: random.Random,
    dpi: int,
    table: PersonTable | None = None,
    footer: str | None = None,
) -> tuple[Image.Image, SheetStyle]:
    """A printed table form, filled in by hand, signed and (often) sealed; `table` lists people below the
    fields and `footer` (第1页 共2页) is printed at the foot. Returns the page and how it was printed."""
    page = Sheet(dpi)
    draw = page.draw
    grey = rng.randint(20, 60)
    line: Ink = (grey, grey, grey)
    pen = rng.choice(PEN_INKS)
    label_ref = rng.choice(PRINT_FONTS)
    title_ref = rng.choice(TITLE_FONTS)
    margin_mm = rng.uniform(16, 24)
    margin = page.px(margin_mm)
    width = page.img.width - 2 * margin
    y: float = page.px(rng.uniform(14, 26))

    title_pt = rng.uniform(16, 21)
    title_px = fit_size(title_ref, title, page.pt(title_pt), width)
    draw.text((page.img.width / 2, y), title, font=font(title_ref, title_px), fill=line, anchor="mt")
    y += title_px * 1.6

    small = page.pt(rng.uniform(9, 10.5))
    hand_pt = rng.uniform(12, 14.5)
    hand_px = page.pt(hand_pt)
    draw.text((margin, y), "填表单位（盖章）：", font=font(label_ref, small), fill=line)
    if rng.random() < 0.4:
        hand_text(
            draw,
            (margin + font(label_ref, small).getlength("填表单位（盖章）：") + page.px(1), y - small * 0.2),
            case.unit.name,
            round(small * 1.2),
            pen,
            rng,
            max_width=width * 0.55,
        )
    number_label = rng.choice(["编号：", "No.", "档案编号："])
    draw.text((margin + width * 0.7, y), number_label, font=font(label_ref, small), fill=line)
    if rng.random() < 0.5:
        hand_text(
            draw,
            (margin + width * 0.7 + font(label_ref, small).getlength(number_label), y - small * 0.2),
            f"{rng.randint(1, 99999):05d}",
            round(small * 1.2),
            pen,
            rng,
        )
    y += small * 1.8

    rows = _rows(fields)
    remark_rows, sign_rows = rng.uniform(1.5, 2.5), rng.uniform(2.2, 3.0)
    # forms are designed to fill most of the sheet: stretch rows towards a target table height
    target = page.img.height * rng.uniform(0.6, 0.85) - y
    table_rows = table.printed_rows + 1 if table is not None else 0
    row_h = min(max(target / (len(rows) + table_rows + remark_rows + sign_rows), page.px(8.5)), page.px(17))
    label_w = page.px(rng.uniform(28, 36))
    thin = max(1, round(dpi / 160))
    top = y
    seal_at: tuple[float, float] | None = None
    for row in rows:
        seg = width / len(row)
        for i, f in enumerate(row):
            x0 = margin + i * seg
            lw = min(label_w, seg * 0.42)
            draw.line((x0 + lw, y, x0 + lw, y + row_h), fill=line, width=thin)
            if i:
                draw.line((x0, y, x0, y + row_h), fill=line, width=thin)
            page.text_fit(
                (x0 + lw / 2, y + row_h / 2),
                f.label,
                label_ref,
                rng.uniform(10, 11.5),
                lw - page.px(2),
                line,
                anchor="mm",
            )
            if f.value is not None:
                end = write_value(page, (x0 + lw, y, x0 + seg, y + row_h), f.value, pen, line, rng, hand_px)
                if f.spec.key == "unit_name":
                    seal_at = end
        y += row_h
        draw.line((margin, y, margin + width, y), fill=line, width=thin)
    if table is not None:
        sheet_rows = range(table.printed_rows)
        y = _person_table(page, table, sheet_rows, y, (margin, width, row_h), (line, pen), label_ref, rng, hand_px)

    # remarks and sign-off rows every real form ends with
    remark_h = row_h * remark_rows
    draw.line((margin + label_w, y, margin + label_w, y + remark_h), fill=line, width=thin)
    page.text_fit((margin + label_w / 2, y + remark_h / 2), "备注", label_ref, 11, label_w, line, anchor="mm")
    y += remark_h
    draw.line((margin, y, margin + width, y), fill=line, width=thin)
    sign_h = row_h * sign_rows
    half = margin + width / 2
    draw.line((half, y, half, y + sign_h), fill=line, width=thin)
    lbl = font(label_ref, page.pt(10.5))
    draw.text((margin + page.px(3), y + page.px(3)), "经办人（签字）：", font=lbl, fill=line)
    draw.text((half + page.px(3), y + page.px(3)), "单位（盖章）", font=lbl, fill=line)
    date_x = half + page.px(3)
    draw.text((date_x, y + sign_h - page.px(8)), "日期：", font=lbl, fill=line)
    if rng.random() < 0.8:
        sign_date = format_date(case.form_date, case.date_style)
        hand_text(
            draw,
            (date_x + lbl.getlength("日期：") + page.px(2), y + sign_h - page.px(9.5)),
            sign_date,
            round(hand_px * 0.9),
            pen,
            rng,
            max_width=width / 2 - page.px(20),
        )
    if rng.random() < 0.85:
        signature(
            draw, (margin + page.px(8), y + page.px(9), half - page.px(8), y + sign_h - page.px(3)), pen, rng, dpi
        )
    y += sign_h
    draw.rectangle((margin, top, margin + width, y), outline=line, width=thin * 2 + 1)
    if rng.random() < 0.5:
        draw.text((margin, y + page.px(2)), rng.choice(_FOOTNOTES), font=font(label_ref, small), fill=line)

    if rng.random() < 0.75:
        if seal_at is None or rng.random() < 0.5:
            seal_at = (half + width / 4 + page.px(rng.uniform(-15, 15)), y - sign_h / 2 + page.px(rng.uniform(-8, 8)))
        holder = case.unit.name if rng.random() < 0.65 else f"{case.person.province}社会保险事业管理局"
        mask = seal_mask(holder, rng.choice(SEAL_FOOTERS), page.px(rng.uniform(38, 42)), rng)
        stamp(page.img, mask, (seal_at[0] + page.px(rng.uniform(-10, 5)), seal_at[1]), rng)
    if footer is not None:
        _page_footer(page, footer, label_ref, line)
    style = SheetStyle(margin_mm, row_h * 25.4 / dpi, line, pen, label_ref, title_ref, hand_pt, title_pt)
    return page.img, style


def _page_footer(page: Sheet, text: str, ref: FontRef, ink: Ink) -> None:
    page.draw.text(
        (page.img.width / 2, page.img.height - page.px(14)), text, font=font(ref, page.pt(10)), fill=ink, anchor="mb"
    )


def render_continuation(
    table: PersonTable,
    rows: range,
    style: SheetStyle,
    marks: ContinuationMarks,
    rng: random.Random,
    dpi: int,
) -> Image.Image:
    """A continuation sheet (续表) of a form's person table: the same ruling and pen as the first sheet,
    rows `rows` of `table` (numbered on from the first sheet), the marks that say it continues, and a
    remarks row at the foot on some sheets."""
    page = Sheet(dpi)
    draw = page.draw
    # another sheet, laid on the platen a little differently from the first
    margin = page.px(style.margin_mm + rng.uniform(-3.0, 3.0))
    width = page.img.width - 2 * page.px(style.margin_mm)
    y: float = page.px(rng.uniform(14, 26))
    small = page.pt(rng.uniform(9, 10.5))
    if marks.title is not None:
        title_px = fit_size(style.title_ref, marks.title, page.pt(style.title_pt), width)
        draw.text(
            (page.img.width / 2, y), marks.title, font=font(style.title_ref, title_px), fill=style.line, anchor="mt"
        )
        y += title_px * 1.6
    if marks.marker is not None:
        f = font(style.label_ref, small)
        x = margin + width - f.getlength(marks.marker) if marks.marker_right else margin
        draw.text((x, y), marks.marker, font=f, fill=style.line)
        y += small * 1.8
    elif marks.title is None:
        y += page.px(rng.uniform(4, 12))
    row_h = page.px(style.row_mm)
    thin = max(1, round(dpi / 160))
    top = y
    draw.line((margin, y, margin + width, y), fill=style.line, width=thin)
    inks = (style.line, style.pen)
    hand_px = page.pt(style.hand_pt)
    y = _person_table(
        page, table, rows, y, (margin, width, row_h), inks, style.label_ref, rng, hand_px, header=marks.header
    )
    if rng.random() < 0.5:
        remark_h = row_h * rng.uniform(1.2, 2.0)
        label_w = page.px(rng.uniform(28, 36))
        draw.line((margin + label_w, y, margin + label_w, y + remark_h), fill=style.line, width=thin)
        page.text_fit((margin + label_w / 2, y + remark_h / 2), "备注", style.label_ref, 11, label_w, style.line, "mm")
        y += remark_h
    draw.rectangle((margin, top, margin + width, y), outline=style.line, width=thin * 2 + 1)
    if marks.page_footer is not None:
        _page_footer(page, marks.page_footer, style.label_ref, style.line)
    return page.img
