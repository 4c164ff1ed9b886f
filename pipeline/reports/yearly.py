"""`dangan yearly YEAR`: the 统计年报表 (seed 001 篇四: the archive room's yearly statistics) as xlsx.

Records and pages received in the year (by 扫描日期), by archive category, 险种 and retention; lending
(from the audit trail's lending entries) and destruction (records destroyed in the year).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel

from pipeline.store import CatalogueStore

_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


class YearlyStats(BaseModel):
    year: int
    records: int
    pages: int
    by_category: dict[str, tuple[int, int]]
    by_insurance: dict[str, tuple[int, int]]
    by_retention: dict[str, tuple[int, int]]
    lent: int
    destroyed: int


def yearly_stats(store: CatalogueStore, year: int) -> YearlyStats:
    docs = {d.doc_id: d for d in store.documents()}
    received = [r for r in store.records() if r.scan_date is not None and r.scan_date.year == year]
    pages = {r.record_id: (docs[r.doc_id].last_page - docs[r.doc_id].first_page + 1) if r.doc_id in docs else 0
             for r in received}  # fmt: skip

    def tally(key: str) -> dict[str, tuple[int, int]]:
        items: Counter[str] = Counter()
        page_sum: Counter[str] = Counter()
        for r in received:
            value = getattr(r, key)
            name = (value.value if hasattr(value, "value") else value) or "未分类"
            items[name] += 1
            page_sum[name] += pages[r.record_id]
        return {k: (items[k], page_sum[k]) for k in sorted(items)}

    lent = sum(1 for e in store.audit_events() if e.action.startswith("lend") and e.at.year == year)
    destroyed = sum(1 for r in store.records() if r.destroyed_on is not None and r.destroyed_on.year == year)
    return YearlyStats(
        year=year,
        records=len(received),
        pages=sum(pages.values()),
        by_category=tally("category"),
        by_insurance=tally("insurance_type"),
        by_retention=tally("retention"),
        lent=lent,
        destroyed=destroyed,
    )


def _table(ws: Worksheet, top: int, title: str, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> int:
    ws.cell(row=top, column=1, value=title).font = Font(name="宋体", bold=True, size=12)
    for c, h in enumerate(header, start=1):
        cell = ws.cell(row=top + 1, column=c, value=h)
        cell.font = Font(name="宋体", bold=True)
        cell.border = _BORDER
    for r, row in enumerate(rows, start=top + 2):
        for c, v in enumerate(row, start=1):
            ws.cell(row=r, column=c, value=v).border = _BORDER
    return top + len(rows) + 3


def write_yearly(stats: YearlyStats, out: Path, made_on: date | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "统计年报表"
    ws.cell(row=1, column=1, value=f"社会保险业务档案统计年报表（{stats.year}年度）").font = Font(
        name="宋体", size=14, bold=True
    )
    row = _table(
        ws,
        3,
        "总体情况",
        ("项目", "数量"),
        [("接收档案（件）", stats.records), ("接收档案（页）", stats.pages), ("借阅利用（次）", stats.lent),
         ("销毁档案（件）", stats.destroyed)],
    )  # fmt: skip
    for title, data in (("按档案门类", stats.by_category), ("按险种", stats.by_insurance),
                        ("按保管期限", stats.by_retention)):  # fmt: skip
        row = _table(ws, row, title, (title[1:], "件数", "页数"), [(k, n, p) for k, (n, p) in data.items()])
    ws.cell(row=row, column=1, value=f"制表日期：{(made_on or date.today()).isoformat()}")
    for letter, width in zip("ABC", (28, 10, 10), strict=True):
        ws.column_dimensions[letter].width = width
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
