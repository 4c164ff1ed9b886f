"""The end-of-run report: what went in, what came out, what needs a person."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.errors import StoreConflictError
from pipeline.store import CatalogueStore
from schemas.models import DocumentStatus, FileStatus, SkippedEntry


class QuarantinedFile(BaseModel):
    rel_path: str
    reason: str


class BatchSummary(BaseModel):
    batch_id: str
    batch_root: str
    files: int
    pages: int
    documents: int
    per_form: dict[str, int]
    accepted: int
    review: int
    quarantined: list[QuarantinedFile]
    failed: list[QuarantinedFile] = []
    skipped: list[SkippedEntry]
    duplicates: list[QuarantinedFile] = []
    notes: list[QuarantinedFile] = []
    pages_processed_now: int
    partial_files_removed: int = 0
    """`.part` files a killed run left, removed by this run's plan (the embedded runner reports it)."""
    seconds: float
    finished: date

    @property
    def pages_per_minute(self) -> float:
        return round(self.pages_processed_now / self.seconds * 60.0, 1) if self.seconds > 0 else 0.0


def summarize(store: CatalogueStore, batch_id: str, run_id: str) -> BatchSummary:
    """The run's report, from the catalogue alone: the same whichever runner, and whichever process, asks."""
    batch = store.get_batch(batch_id)
    run = store.runs.get(batch_id, run_id)
    if batch is None or run is None:
        raise StoreConflictError(f"run {run_id} of batch {batch_id} is not in the catalogue {store.url}: plan it first")
    files = store.source_files(batch_id)
    docs = store.documents(batch_id)
    pages_done = sum(len(store.pages(f.file_id)) for f in files if f.status is FileStatus.DONE)
    ended = run.finished_at or datetime.now(UTC)
    return BatchSummary(
        batch_id=batch_id,
        batch_root=batch.root,
        files=sum(f.status is not FileStatus.DUPLICATE for f in files),
        pages=pages_done,
        documents=len(docs),
        per_form=dict(Counter(d.form_title or "(unknown)" for d in docs).most_common()),
        accepted=sum(d.status is DocumentStatus.ACCEPTED for d in docs),
        review=sum(d.status is DocumentStatus.REVIEW for d in docs),
        quarantined=[
            QuarantinedFile(rel_path=f.rel_path, reason=f.error or "")
            for f in files
            if f.status is FileStatus.QUARANTINED
        ],
        failed=[
            QuarantinedFile(rel_path=f.rel_path, reason=f.error or "") for f in files if f.status is FileStatus.FAILED
        ],
        skipped=run.skipped,
        duplicates=[
            QuarantinedFile(rel_path=f.rel_path, reason=f.error or "")
            for f in files
            if f.status is FileStatus.DUPLICATE
        ],
        notes=[QuarantinedFile(rel_path=f.rel_path, reason=f.note) for f in files if f.note],
        pages_processed_now=max(0, store.runs.pages_in_catalogue(batch_id) - run.pages_before),
        seconds=round((ended - run.started_at).total_seconds(), 2),
        finished=ended.astimezone().date(),
    )


def failure_line(summary: BatchSummary) -> str | None:
    """The run's failure in one line, when anything failed for a reason of ours (None: nothing did)."""
    if not summary.failed:
        return None
    first = summary.failed[0]
    more = f" (and {len(summary.failed) - 1} more, listed above)" if len(summary.failed) > 1 else ""
    return (
        f"batch {summary.batch_id}: {len(summary.failed)} file(s) not finished for a reason of ours: "
        f"{first.rel_path}: {first.reason}{more}. Repair the cause and run again: only these are retried"
    )


def render_summary(summary: BatchSummary, console: Console) -> None:
    overview = Table(title=f"Batch {summary.batch_id}  ({summary.batch_root})", show_header=False)
    overview.add_column(style="bold")
    overview.add_column(justify="right")
    for label, value in (
        ("files", summary.files),
        ("pages", summary.pages),
        ("documents", summary.documents),
        ("accepted", summary.accepted),
        ("review", summary.review),
        ("quarantined files", len(summary.quarantined)),
        ("failed files (retried next run)", len(summary.failed)),
        ("duplicates (recorded once)", len(summary.duplicates)),
        ("entries not taken as scans", sum(s.row is None for s in summary.skipped)),
        ("bad manifest rows", sum(s.row is not None for s in summary.skipped)),
        ("pages recognised this run", summary.pages_processed_now),
        ("partial files removed (left by a killed run)", summary.partial_files_removed),
        ("pages/minute", summary.pages_per_minute),
        ("seconds", summary.seconds),
    ):
        overview.add_row(label, str(value))
    console.print(overview)
    forms = Table(title="Documents per form type")
    forms.add_column("form")
    forms.add_column("documents", justify="right")
    for title, count in summary.per_form.items():
        forms.add_row(title, str(count))
    console.print(forms)
    for title, files in (("Quarantined files", summary.quarantined), ("Failed files: re-run to retry", summary.failed)):
        if files:
            bad = Table(title=title, style="red")
            bad.add_column("file")
            bad.add_column("reason")
            for q in files:
                bad.add_row(escape(q.rel_path), escape(q.reason))
            console.print(bad)
    _entry_tables(summary, console)


def _entry_tables(summary: BatchSummary, console: Console) -> None:
    """Every entry not ingested, and every note, by name with its reason (names escaped: a file named
    "[red]x" is shown as it is, not as markup)."""
    for title, files, style in (
        ("Duplicates: the same bytes as a file already taken in", summary.duplicates, "yellow"),
        ("Notes on files taken in", summary.notes, "yellow"),
    ):
        if files:
            table = Table(title=title, style=style)
            table.add_column("file")
            table.add_column("reason")
            for q in files:
                table.add_row(escape(q.rel_path), escape(q.reason))
            console.print(table)
    if summary.skipped:
        skipped = Table(title="Not taken as scans, and bad manifest rows", style="yellow")
        skipped.add_column("entry")
        skipped.add_column("row", justify="right")
        skipped.add_column("reason")
        for s in summary.skipped:
            skipped.add_row(escape(s.rel_path), "" if s.row is None else str(s.row), escape(s.reason))
        console.print(skipped)
