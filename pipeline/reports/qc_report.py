"""`dangan report BATCH`: the batch QC report, as HTML with inline charts and as PDF.

What a project manager and the agency's checker look at: how fast the batch went (pages per minute over
the run), what it held (documents per form type), how much went straight through, why the rest went to
review, how confident the fields were, and what the audit sample measured (precision with its interval).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel

from pipeline.deliver.evidence import SampleEstimate, audit_sample
from pipeline.errors import ConfigError
from pipeline.reports.pdf_print import print_pdf
from pipeline.reports.svg_charts import bar_chart, histogram, line_chart
from pipeline.store import CatalogueStore
from pipeline.store.review_save import ReviewSaver
from schemas.models import DocumentStatus, FieldStatus, FileStatus
from schemas.review_work import CorrectionKind

_TEMPLATES = Path(__file__).parent / "templates"


class QcReportData(BaseModel):
    batch_id: str
    root: str
    generated_at: datetime
    files: int
    quarantined: list[str]
    failed: list[str]
    pages: int
    documents: int
    records: int
    straight_through: int
    minutes: list[tuple[str, int]]
    pages_per_minute: float | None
    forms: list[tuple[str, int]]
    reasons: list[tuple[str, int]]
    accepted_confidences: list[float]
    review_confidences: list[float]
    sample: SampleEstimate

    @property
    def straight_through_share(self) -> float:
        return self.straight_through / self.documents if self.documents else 0.0


def gather(store: CatalogueStore, batch_id: str) -> QcReportData:
    batch = store.get_batch(batch_id)
    if batch is None:
        raise ConfigError(f"batch {batch_id} is not in the catalogue")
    files = store.source_files(batch_id)
    pages = [p for f in files for p in store.pages(f.file_id)]
    docs = store.documents(batch_id)
    tasks = [t for t in store.qc_tasks(None) if t.doc_id in {d.doc_id for d in docs}]
    review_docs = {t.doc_id for t in tasks if not t.audit_sample}
    corrections: Counter[str] = Counter(
        c.doc_id for c in ReviewSaver(store.engine).corrections(batch_id) if c.kind is CorrectionKind.CORRECTED
    )
    times = sorted(p.finished_at for p in pages if p.finished_at is not None)
    minutes: list[tuple[str, int]] = []
    rate = None
    if times:
        start = times[0]
        per_minute = Counter(int((t - start).total_seconds() // 60) for t in times)
        minutes = [(f"{m}′", per_minute.get(m, 0)) for m in range(max(per_minute) + 1)]
        span = (times[-1] - start).total_seconds() / 60
        rate = round(len(times) / span, 1) if span > 0 else None
    reasons: Counter[str] = Counter()
    for t in tasks:
        for r in t.reasons:
            reasons[r.split(":", 1)[0]] += 1
    fields = [f for d in docs for f in d.fields if f.value or f.normalized]
    return QcReportData(
        batch_id=batch_id,
        root=batch.root,
        generated_at=datetime.now(UTC),
        files=len(files),
        quarantined=[f.rel_path for f in files if f.status is FileStatus.QUARANTINED],
        failed=[f.rel_path for f in files if f.status is FileStatus.FAILED],
        pages=len(pages),
        documents=len(docs),
        records=len(store.records(batch_id)),
        straight_through=sum(1 for d in docs if d.status is DocumentStatus.ACCEPTED and d.doc_id not in review_docs),
        minutes=minutes,
        pages_per_minute=rate,
        forms=Counter(d.form_title or "未识别" for d in docs).most_common(),
        reasons=reasons.most_common(12),
        accepted_confidences=[f.confidence for f in fields if f.status is FieldStatus.ACCEPTED],
        review_confidences=[f.confidence for f in fields if f.status is FieldStatus.REVIEW],
        sample=audit_sample(tasks, corrections),
    )


def render_html(data: QcReportData) -> str:
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]))
    charts = {
        "speed": line_chart(data.minutes, "每分钟处理页数", " 页/分"),
        "forms": bar_chart(data.forms, "各表单类型件数", " 件"),
        "reasons": bar_chart(data.reasons, "送审原因", " 次"),
        "accepted": histogram(data.accepted_confidences, "自动接受字段的置信度"),
        "review": histogram(data.review_confidences, "送审字段的置信度"),
    }
    return env.get_template("qc_report.html").render(d=data, charts=charts)


def write_report(store: CatalogueStore, batch_id: str, out_dir: Path, pdf: bool = True) -> list[Path]:
    """Write qc-report-<batch>.html (and .pdf) into out_dir; returns the files written."""
    data = gather(store, batch_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    html = out_dir / f"qc-report-{batch_id}.html"
    html.write_text(render_html(data), encoding="utf-8")
    written = [html]
    if pdf:
        written.append(print_pdf(html, html.with_suffix(".pdf")))
    return written
