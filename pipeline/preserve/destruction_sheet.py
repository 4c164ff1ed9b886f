"""The 销毁清册 as a printable xlsx: what is destroyed, why, and who signed (kept for ever with the list)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from pipeline.extract.validators import mask_id
from schemas.preservation import DestructionList

_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_COLUMNS = (
    ("序号", 6),
    ("档号", 26),
    ("题名", 34),
    ("形成日期", 12),
    ("保管期限", 8),
    ("到期日期", 12),
    ("公民身份号码", 20),
    ("SHA-256", 20),
    ("鉴定意见", 30),
)


def write_destruction_sheet(dl: DestructionList, out: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "销毁清册"
    ws.cell(row=1, column=1, value=f"档案销毁清册　{dl.list_id}").font = Font(name="宋体", size=14, bold=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(_COLUMNS))
    for c, (header, width) in enumerate(_COLUMNS, start=1):
        cell = ws.cell(row=2, column=c, value=header)
        cell.font = Font(name="宋体", bold=True)
        cell.border = _BORDER
        ws.column_dimensions[cell.column_letter].width = width
    for r, item in enumerate(dl.items, start=3):
        values = (
            r - 2,
            item.archive_no,
            item.title,
            item.form_date.isoformat() if item.form_date else "",
            item.retention,
            item.destroy_after.isoformat(),
            mask_id(item.person_id) if item.person_id else "",
            (item.sha256 or "")[:16],
            item.reason,
        )
        for c, v in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c, value=v)
            cell.border = _BORDER
            cell.alignment = Alignment(wrap_text=True, vertical="center")
    r = len(dl.items) + 4
    ws.cell(
        row=r, column=1, value=f"共 {len(dl.items)} 件。制表人：{dl.created_by}　制表时间：{dl.created_at:%Y-%m-%d}"
    )
    ws.cell(row=r + 1, column=1, value="监销人签字：" + "、".join(dl.signers) if dl.signers else "监销人签字：")
    status = f"已销毁（{dl.executed_at:%Y-%m-%d}）" if dl.executed_at else "待销毁"
    ws.cell(row=r + 2, column=1, value=f"状态：{status}")
    ws.freeze_panes = "A3"
    ws.print_title_rows = "1:2"
    ws.page_setup.orientation = "landscape"
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
