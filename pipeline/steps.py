"""The batch, step by step: plan, recognise pages, assemble documents, number records, archive, finish.

Both runners call these: `pipeline.run` (embedded, local pool) and the Airflow DAGs (through
`pipeline.tasks`), the per-item steps through `pipeline.apply`. Every step is idempotent, so a
killed run resumes where it stopped.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pipeline.apply import Step
from pipeline.archive.stage import archive_document
from pipeline.archive.stale import remove_stale_pdfa
from pipeline.assemble import assemble_file
from pipeline.batch_lock import BatchLock
from pipeline.context import RunContext
from pipeline.errors import BadInputError, StoreConflictError
from pipeline.ingest import as_duplicate, discover_batch, inspect_file
from pipeline.jobs import FileJob, PageJob, RecordJob
from pipeline.pages import process_page
from pipeline.partial_files import remove_stale_parts
from pipeline.records import build_records
from pipeline.review_queue import queue_reviews
from pipeline.search.catalogue_docs import index_batch
from pipeline.settings import Settings
from pipeline.store import CatalogueStore
from pipeline.store.pages import pages_by_document
from pipeline.summary import BatchSummary, summarize
from schemas.models import ArchiveRecord, BatchRun, Document, FileStatus, PageResult, SourceFile
from schemas.registry import get_registry

log = logging.getLogger(__name__)

LEGACY_PDFA_REASON = "PDF/A not written"
"""The review reason earlier versions gave a document whose PDF/A failed (now a failure of the run)."""


class BatchPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    context: RunContext
    run_id: str
    total_pages: int
    page_jobs: list[PageJob]
    partial_files_removed: int = 0
    """Partial writes (`.part` files) a killed run left behind, removed by this plan."""


def _quarantine(store: CatalogueStore, source: SourceFile, reason: str) -> None:
    log.warning("quarantined %s: %s", source.rel_path, reason)
    store.upsert_source_file(source.model_copy(update={"status": FileStatus.QUARANTINED, "error": reason}))


def _set_aside(store: CatalogueStore, ctx: RunContext, rel_path: str, error: Exception, where: str) -> None:
    """A bad file is quarantined for good; any other failure is ours, and the next run retries the file."""
    source = store.get_source_file(ctx.batch_id, rel_path)
    if source is None:
        log.warning("%s left the catalogue while it was processed; not setting it aside", rel_path)
        return
    if isinstance(error, BadInputError):
        _quarantine(store, source, f"{where}{error.reason}")
        return
    reason = f"{where}{type(error).__name__}: {error}"
    log.error("failed %s (retried on the next run): %s", source.rel_path, reason)
    store.upsert_source_file(source.model_copy(update={"status": FileStatus.FAILED, "error": reason}))


def _remove_partial_writes(ctx: RunContext, lock: BatchLock) -> int:
    """The `.part` files a killed run left in the batch's work folder and in the archive, whose writers are gone."""
    if not lock.batch_is_idle(ctx.batch_id):  # not ours alone: a live run may be writing them
        return 0
    removed = remove_stale_parts([ctx.home / "work" / ctx.batch_id, ctx.archive_root], lock.batch_is_idle)
    if removed:
        log.warning("removed %d partial file(s) left by an interrupted run of batch %s", len(removed), ctx.batch_id)
    return len(removed)


def _files_with_legacy_failure(store: CatalogueStore, batch_id: str) -> set[str]:
    """Files whose documents an older version sent to review for a PDF/A it could not write: assembled again,
    so their documents are decided from their fields once more (the PDF/A is retried with them)."""
    return {
        d.file_id for d in store.documents(batch_id) if any(r.startswith(LEGACY_PDFA_REASON) for r in d.review_reasons)
    }


def plan_batch(
    batch_dir: Path,
    settings: Settings,
    store: CatalogueStore,
    run_id: str | None = None,
    *,
    lock: BatchLock | None = None,
) -> BatchPlan:
    """Discover and check every file, list the pages not yet recognised, and record the run's start.

    `run_id` names the run (Airflow's own run id); an embedded run gets a fresh one. Under the batch's
    exclusive `lock` the partial files a killed run left are removed first; without it they are left
    alone, since a live run may be writing them.
    """
    started = datetime.now(UTC)
    batch, files, skipped = discover_batch(batch_dir)
    if store.get_batch(batch.batch_id) is None:
        store.upsert_batch(batch)
    ctx = RunContext.create(settings, batch.batch_id, batch_dir)
    removed = _remove_partial_writes(ctx, lock) if lock is not None else 0
    redo = _files_with_legacy_failure(store, batch.batch_id)
    jobs: list[PageJob] = []
    total = 0
    for source in files:
        prior = store.get_source_file(batch.batch_id, source.rel_path)
        finished = (FileStatus.DONE, FileStatus.QUARANTINED, FileStatus.DUPLICATE)
        if (
            prior is not None
            and prior.file_id == source.file_id
            and prior.status in finished
            and prior.file_id not in redo
        ):
            total += prior.page_count if prior.status is not FileStatus.DUPLICATE else 0
            continue
        # The same bytes taken in before, here or in another batch: recorded once (empty files are all alike).
        original = store.original_of(source) if source.size else None
        if original is not None:
            store.upsert_source_file(as_duplicate(source, original))
            continue
        try:
            probe = inspect_file(ctx.source_path(source.rel_path), ctx.batch_root)
        except BadInputError as e:
            _quarantine(store, source, e.reason)
            continue
        kind, count = probe.kind, probe.page_count
        source = source.model_copy(
            update={"kind": kind, "page_count": count, "status": FileStatus.PENDING, "note": probe.note}
        )
        store.upsert_source_file(source)
        done = {p.page.page_no for p in store.pages(source.file_id)}
        total += count
        jobs.extend(
            PageJob(file_id=source.file_id, rel_path=source.rel_path, kind=kind, page_no=n)
            for n in range(1, count + 1)
            if n not in done
        )
    run = BatchRun(
        run_id=run_id or f"embedded-{uuid.uuid4().hex}",
        batch_id=batch.batch_id,
        started_at=started,
        pages_before=store.runs.pages_in_catalogue(batch.batch_id),
        skipped=skipped,
    )
    store.runs.start(run)
    return BatchPlan(context=ctx, run_id=run.run_id, total_pages=total, page_jobs=jobs, partial_files_removed=removed)


class RecognisePages(Step[PageJob, PageJob, PageResult]):
    label = "pages"

    def load(self, store: CatalogueStore, ctx: RunContext, jobs: Sequence[PageJob]) -> list[tuple[PageJob, PageJob]]:
        """The pages of files still pending: a file set aside meanwhile (a retried task) is not read again."""
        pending: dict[str, str | None] = {}
        for rel_path in {job.rel_path for job in jobs}:
            source = store.get_source_file(ctx.batch_id, rel_path)
            pending[rel_path] = source.file_id if source is not None and source.status is FileStatus.PENDING else None
        return [(job, job) for job in jobs if pending[job.rel_path] == job.file_id]

    def run(self, ctx: RunContext, work: PageJob) -> PageResult:
        return process_page(ctx, work.file_id, work.rel_path, work.kind, work.page_no)

    def save(self, store: CatalogueStore, ctx: RunContext, job: PageJob, outcome: PageResult | Exception) -> None:
        if isinstance(outcome, PageResult):
            store.save_page(ctx.batch_id, outcome)
            return
        # A document cannot be archived with a page missing: the whole file is set aside.
        _set_aside(store, ctx, job.rel_path, outcome, f"page {job.page_no}: ")


def files_ready_to_assemble(store: CatalogueStore, ctx: RunContext) -> list[FileJob]:
    """Files still pending whose every page is recognised."""
    return [
        FileJob(file_id=f.file_id, rel_path=f.rel_path)
        for f in store.source_files(ctx.batch_id)
        if f.status is FileStatus.PENDING and len(store.pages(f.file_id)) == f.page_count
    ]


class FilePages(BaseModel):
    """What assembling a file needs: the file and its recognised pages."""

    source: SourceFile
    pages: list[PageResult]


class AssembleFiles(Step[FileJob, FilePages, list[Document]]):
    label = "documents"

    def load(self, store: CatalogueStore, ctx: RunContext, jobs: Sequence[FileJob]) -> list[tuple[FileJob, FilePages]]:
        loaded = []
        for job in jobs:
            source = store.get_source_file(ctx.batch_id, job.rel_path)
            if source is not None and source.file_id == job.file_id:
                loaded.append((job, FilePages(source=source, pages=store.pages(job.file_id))))
        return loaded

    def run(self, ctx: RunContext, work: FilePages) -> list[Document]:
        return assemble_file(ctx, work.source, work.pages)

    def save(self, store: CatalogueStore, ctx: RunContext, job: FileJob, outcome: list[Document] | Exception) -> None:
        if isinstance(outcome, Exception):
            _set_aside(store, ctx, job.rel_path, outcome, "")
            return
        source = store.get_source_file(ctx.batch_id, job.rel_path)
        if source is None:
            return
        before = store.records(ctx.batch_id, file_id=job.file_id)
        store.replace_documents(ctx.batch_id, job.file_id, outcome)
        produced = {d.doc_id for d in outcome}
        in_use = {r.pdfa_path for r in store.records(ctx.batch_id, file_id=job.file_id)}
        for record in before:
            if record.doc_id not in produced and record.pdfa_path not in in_use:
                remove_stale_pdfa(store, ctx.archive_root, record)
        store.upsert_source_file(source.model_copy(update={"status": FileStatus.DONE, "error": None}))


def number_records(store: CatalogueStore, ctx: RunContext) -> list[ArchiveRecord]:
    """Give every document of the batch its record; existing records keep number and name."""
    batch = store.get_batch(ctx.batch_id)
    if batch is None:
        raise StoreConflictError(f"batch {ctx.batch_id} is not in the catalogue {store.url}: plan it first")
    docs = store.documents(ctx.batch_id)
    batch_docs = {d.doc_id for d in docs}
    all_records = store.records()
    records = build_records(
        docs,
        existing={r.doc_id: r for r in all_records},
        all_archive_numbers=[r.archive_no for r in all_records],
        taken_file_names=[r.file_name for r in all_records if r.file_name and r.doc_id not in batch_docs],
        registry=get_registry(),
        manifest=batch.manifest,
        scan_date=batch.manifest.scan_date or batch.created_at.date(),
    )
    for record in records:
        store.save_record(record)
    return records


def records_to_archive(records: Sequence[ArchiveRecord]) -> list[RecordJob]:
    """Records without a PDF/A file yet (or whose file is gone)."""
    return [
        RecordJob(record_id=r.record_id)
        for r in records
        if not (r.pdfa_path and r.sha256 and Path(r.pdfa_path).exists())
    ]


class RecordPages(BaseModel):
    """What writing a record's PDF/A needs: the record, its document and the document's pages."""

    record: ArchiveRecord
    doc: Document
    pages: list[PageResult]


class ArchiveRecords(Step[RecordJob, RecordPages, ArchiveRecord]):
    label = "PDF/A"

    def load(
        self, store: CatalogueStore, ctx: RunContext, jobs: Sequence[RecordJob]
    ) -> list[tuple[RecordJob, RecordPages]]:
        found = []
        for job in jobs:
            record = store.get_record(job.record_id)
            doc = store.get_document(record.doc_id) if record is not None else None
            if record is not None and doc is not None:
                found.append((job, record, doc))
        doc_pages = pages_by_document(store, [doc for _job, _record, doc in found])
        return [(job, RecordPages(record=record, doc=doc, pages=doc_pages[doc.doc_id])) for job, record, doc in found]

    def run(self, ctx: RunContext, work: RecordPages) -> ArchiveRecord:
        return archive_document(ctx, work.record, work.doc, work.pages)

    def save(self, store: CatalogueStore, ctx: RunContext, job: RecordJob, outcome: ArchiveRecord | Exception) -> None:
        if isinstance(outcome, ArchiveRecord):
            store.save_record(outcome)
            return
        # A PDF/A not written is a failure of ours (a folder not writable, a full disk), never a judgement on
        # the document: its decision stays as its fields made it, and its file is retried by the next run.
        record = store.get_record(job.record_id)
        doc = store.get_document(record.doc_id) if record is not None else None
        if record is None or doc is None:
            log.error("PDF/A for record %s failed: %s: %s", job.record_id, type(outcome).__name__, outcome)
            return
        _set_aside(store, ctx, doc.rel_path, outcome, f"PDF/A {record.file_name or record.record_id}: ")


RECOGNISE_PAGES = RecognisePages()
ASSEMBLE_FILES = AssembleFiles()
ARCHIVE_RECORDS = ArchiveRecords()


def finish_batch(store: CatalogueStore, settings: Settings, ctx: RunContext, run_id: str) -> BatchSummary:
    """Index the batch, queue its reviews, close the run and report it (from the catalogue alone)."""
    index_batch(store, settings, ctx.batch_id)
    queue_reviews(store, ctx.batch_id, ctx.decide.audit_sample_rate)
    store.runs.finish(ctx.batch_id, run_id, datetime.now(UTC))
    return summarize(store, ctx.batch_id, run_id)
