"""The batch QC report: every section filled from the catalogue, charts inline, and a real PDF."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest

from pipeline.reports.qc_report import gather, write_report
from pipeline.reports.svg_charts import bar_chart, histogram, line_chart
from pipeline.run import ingest_batch
from pipeline.settings import DecideSettings, OcrSettings, Settings
from pipeline.store import open_store
from synth import generate_batch


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, str]:
    root = tmp_path_factory.mktemp("report")
    generate_batch(root / "batch", 3, 515, "mixed")
    # Recognition does not matter to the report: the null engine keeps this test fast.
    settings = Settings(
        home=root / "home", workers=1, ocr=OcrSettings(engine="null"), decide=DecideSettings(audit_sample_rate=0.0)
    )
    summary = ingest_batch(root / "batch", settings, show_progress=False)
    return settings, summary.batch_id


def test_report_data_comes_from_the_catalogue(ingested) -> None:
    settings, batch_id = ingested
    store = open_store(settings.database_url)
    try:
        data = gather(store, batch_id)
    finally:
        store.close()
    assert data.documents >= 3 and data.pages >= data.documents
    assert sum(n for _m, n in data.minutes) == data.pages, "every page is counted in the speed series"
    assert sum(n for _f, n in data.forms) == data.documents
    assert data.straight_through == 0, "nothing is read by the null engine, so nothing goes straight through"
    assert data.reasons


def test_report_is_written_as_html_and_pdf(ingested, tmp_path: Path) -> None:
    settings, batch_id = ingested
    store = open_store(settings.database_url)
    try:
        html, pdf = write_report(store, batch_id, tmp_path)
    finally:
        store.close()
    text = html.read_text(encoding="utf-8")
    assert text.count("<svg") == 5
    for heading in ("概况", "抽检精度", "处理速度", "表单类型", "送审原因", "字段置信度"):
        assert heading in text
    with pikepdf.open(pdf) as doc:
        assert len(doc.pages) >= 1


def test_charts_escape_labels_and_scale_to_the_largest_value() -> None:
    svg = bar_chart([("<b>表</b>", 2), ("乙", 4)], "标题")
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert 'width="0' not in svg
    assert histogram([0.1, 0.95, 1.0], "置信度", bins=10).count("<rect") == 10
    assert "平均 2.0" in line_chart([("0′", 1), ("1′", 3)], "速度")


def test_yearly_statistics_count_what_was_received(ingested, tmp_path: Path) -> None:
    from datetime import date

    from openpyxl import load_workbook

    from pipeline.reports.yearly import write_yearly, yearly_stats

    settings, _batch_id = ingested
    store = open_store(settings.database_url)
    try:
        stats = yearly_stats(store, date.today().year)
        records = store.records()
        assert yearly_stats(store, date.today().year - 1).records == 0
    finally:
        store.close()
    assert stats.records == len(records) >= 3
    assert sum(n for n, _p in stats.by_retention.values()) == stats.records
    assert sum(p for _n, p in stats.by_category.values()) == stats.pages >= stats.records
    ws = load_workbook(write_yearly(stats, tmp_path / "年报.xlsx"))["统计年报表"]
    cells = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value for r in range(1, ws.max_row + 1)}
    assert cells["接收档案（件）"] == stats.records and cells["销毁档案（件）"] == 0
