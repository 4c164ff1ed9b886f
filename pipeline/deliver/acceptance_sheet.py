"""The 移交与接收登记表: the acceptance result on one printable sheet, with the problems and the
sample for a human check on sheets of their own, and blanks for both sides' signatures."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.deliver.accept import PROPERTIES, AcceptanceReport

_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WHAT = {
    "真实性": "校验值（BagIt 清单、目录 SHA-256、METS）一致；档号格式；公民身份号码与统一社会信用代码校验",
    "完整性": "清单与文件一致；目录与文件一一挂接；页数相符；档号唯一",
    "可用性": "PDF/A-2b 有效；图像分辨率不低于 300 DPI；文件可打开",
    "安全性": "无可执行文件或其他类型文件；PDF 不含脚本或嵌入文件",
}


def _row(ws: Worksheet, r: int, values: list[str], bold: bool = False) -> None:
    for c, v in enumerate(values, start=1):
        cell = ws.cell(row=r, column=c, value=v)
        cell.border = _BORDER
        cell.font = Font(name="宋体", bold=bold)
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def write_acceptance_sheet(report: AcceptanceReport, out: Path, receiver: str = "", checker: str = "") -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "移交与接收登记表"
    ws.cell(row=1, column=1, value="电子档案移交与接收登记表").font = Font(name="宋体", size=16, bold=True)
    ws.merge_cells("A1:D1")
    ws["A1"].alignment = Alignment(horizontal="center")
    r = 3
    for label, value in (
        ("交接工作名称", f"批次 {report.batch_id} 数字化成果移交"),
        ("交付包", str(report.package)),
        ("电子档案数量", f"{report.records} 件，{report.files} 个文件，{report.pages} 页"),
        ("数据量", f"{report.payload_bytes} 字节"),
        ("检验时间", datetime.now(UTC).isoformat(timespec="seconds")),
        ("检验结论", "通过" if report.passed else f"不通过（{len(report.problems)} 项问题）"),
    ):
        _row(ws, r, [label, value], bold=False)
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=4)
        r += 1
    r += 1
    _row(ws, r, ["检验项目", "检验内容", "结果", "问题数"], bold=True)
    for prop in PROPERTIES:
        r += 1
        n = sum(1 for p in report.problems if p.prop == prop)
        _row(ws, r, [prop, _WHAT[prop], "通过" if n == 0 else "不通过", str(n)])
    r += 2
    for label in ("移交单位（签章）", "接收单位（签章）"):
        _row(ws, r, [label, "", "经办人：", receiver if label.startswith("接收") else ""])
        r += 1
    _row(ws, r, ["检验人", checker, "日期：", ""])
    for letter, width in zip("ABCD", (18, 60, 12, 16), strict=True):
        ws.column_dimensions[letter].width = width
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4

    problems = wb.create_sheet("问题清单")
    _row(problems, 1, ["序号", "检验项目", "检查", "对象", "问题"], bold=True)
    for i, p in enumerate(report.problems, start=1):
        _row(problems, i + 1, [str(i), p.prop, p.check, p.item, p.message])
    for letter, width in zip("ABCDE", (6, 10, 24, 40, 60), strict=True):
        problems.column_dimensions[letter].width = width
    problems.freeze_panes = "A2"

    sample = wb.create_sheet("抽检单")
    sample.cell(row=1, column=1, value=f"人工抽检（随机种子 {report.sample_seed}，{len(report.sample)} 件）")
    _row(sample, 2, ["档号", "题名", "文件名", "页数", "核对结果", "核对人"], bold=True)
    for i, row in enumerate(report.sample, start=3):
        _row(sample, i, [row.get("档号", ""), row.get("题名", ""), row.get("文件名", ""), row.get("页数", ""), "", ""])
    for letter, width in zip("ABCDEF", (30, 36, 60, 6, 12, 10), strict=True):
        sample.column_dimensions[letter].width = width
    sample.freeze_panes = "A3"
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
