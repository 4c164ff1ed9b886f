"""Catalogue sheets as xlsx (openpyxl): Chinese headers, widths, a frozen header and print set-up.

Each sheet of `package.yaml` becomes a worksheet of its own workbook; every workbook also carries the
data dictionary, so a sheet printed or mailed alone still explains its columns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel

from pipeline.deliver.spec import PackageSpec, SheetSpec

DICTIONARY_SHEET = "数据字典"
_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_TITLE_ROW = 1
HEADER_ROW = 2


def cell_value(row: BaseModel, source: str) -> str | int | float:
    value = getattr(row, source)
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return value
    return str(value)


def _lines(value: str | int | float, width: int) -> int:
    """Printed lines a wrapped cell needs: a CJK character takes about two width units."""
    text = str(value)
    units = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return max(1, math.ceil(units / max(1, width - 1)))


def _set_up_print(ws: Worksheet, columns: int) -> None:
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    ws.print_title_rows = f"{_TITLE_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    ws.merge_cells(start_row=_TITLE_ROW, start_column=1, end_row=_TITLE_ROW, end_column=columns)


def write_sheet(ws: Worksheet, sheet: SheetSpec, title: str, rows: Sequence[BaseModel]) -> None:
    ws.title = sheet.name
    ws.cell(row=_TITLE_ROW, column=1, value=title).font = Font(name="宋体", size=14, bold=True)
    ws.cell(row=_TITLE_ROW, column=1).alignment = Alignment(horizontal="center")
    for i, col in enumerate(sheet.columns, start=1):
        c = ws.cell(row=HEADER_ROW, column=i, value=col.header)
        c.font = Font(name="宋体", bold=True)
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        c.border = _BORDER
        ws.column_dimensions[get_column_letter(i)].width = col.width
    for r, row in enumerate(rows, start=HEADER_ROW + 1):
        lines = 1
        for i, col in enumerate(sheet.columns, start=1):
            value = cell_value(row, col.source)
            if not col.domain:
                lines = max(lines, _lines(value, col.width))
            c = ws.cell(row=r, column=i, value=value)
            c.font = Font(name="宋体")
            c.alignment = Alignment(vertical="center", wrap_text=True)
            c.border = _BORDER
            if col.source in {"id_number", "unit_code", "date8", "sha256", "archive_code"}:
                # Text, so that a spreadsheet never turns an ID number into 1.1E+17 or drops a leading 0.
                c.number_format = "@"
        # Row heights are not computed by every spreadsheet on opening: a printed row must fit its text.
        ws.row_dimensions[r].height = 15 * lines
    standard = sum(1 for c in sheet.columns if not c.domain)
    _set_up_print(ws, standard or len(sheet.columns))
    if 0 < standard < len(sheet.columns):
        # On paper the standard's own columns, legible on A4; the domain columns stay in the file.
        ws.print_area = f"A{_TITLE_ROW}:{get_column_letter(standard)}{max(HEADER_ROW, HEADER_ROW + len(rows))}"


def write_dictionary(ws: Worksheet, spec: PackageSpec, sheets: Sequence[SheetSpec]) -> None:
    ws.title = DICTIONARY_SHEET
    ws.cell(row=_TITLE_ROW, column=1, value="数据字典").font = Font(name="宋体", size=14, bold=True)
    for i, header in enumerate(("列名", "所在目录", "含义", "标准列/扩展列"), start=1):
        c = ws.cell(row=HEADER_ROW, column=i, value=header)
        c.font = Font(name="宋体", bold=True)
        c.border = _BORDER
    r = HEADER_ROW + 1
    for sheet in sheets:
        for col in sheet.columns:
            values = (col.header, sheet.name, spec.dictionary[col.header], "扩展列" if col.domain else sheet.standard)
            for i, v in enumerate(values, start=1):
                c = ws.cell(row=r, column=i, value=v)
                c.border = _BORDER
                c.alignment = Alignment(wrap_text=True, vertical="center")
            r += 1
    for letter, width in zip("ABCD", (18, 14, 60, 16), strict=True):
        ws.column_dimensions[letter].width = width
    _set_up_print(ws, 4)


def write_workbook(out: Path, spec: PackageSpec, sheet: SheetSpec, title: str, rows: Sequence[BaseModel]) -> Path:
    wb = Workbook()
    write_sheet(wb.active, sheet, title, rows)
    write_dictionary(wb.create_sheet(), spec, [sheet])
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
