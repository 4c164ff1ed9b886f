"""The batch-level steps, each a plain function over the catalogue store.

Both runners call these: `pipeline.run` (embedded, local pool) and the Airflow DAGs (through
`pipeline.tasks`). Every step is idempotent, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pipeline.archive.stage import archive_document
from pipeline.assemble import assemble_file
from pipeline.context import RunContext
from pipeline.decide import is_audit_sample
from pipeline.errors import BadInputError
from pipeline.ingest import discover_batch, probe_file
from pipeline.pages import process_page
from pipeline.records import build_records
from pipeline.search import SearchDoc, open_search
from pipeline.settings import Settings
from pipeline.store import CatalogueStore
from pipeline.summary import BatchSummary, QuarantinedFile
from schemas.models import (
    ArchiveRecord,
    AuditEvent,
    Document,
    DocumentStatus,
    FileKind,
    FileStatus,
    PageResult,
    QcTask,
    SourceFile,
)
from schemas.registry import get_registry

log = logging.getLogger(__name__)

PageJob = tuple[str, str, FileKind, int]
"""(file_id, rel_path, kind, page_no)"""


class BatchPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    context: RunContext
    files: int
    total_pages: int
    page_jobs: list[PageJob]
    skipped: list[str]


def _quarantine(store: CatalogueStore, source: SourceFile, reason: str) -> None:
    log.warning("quarantined %s: %s", source.rel_path, reason)
    store.upsert_source_file(source.model_copy(update={"status": FileStatus.QUARANTINED, "error": reason}))


def _set_aside(store: CatalogueStore, source: SourceFile, error: BaseException, where: str) -> None:
    """A bad file is quarantined for good; any other failure is ours, and the next run retries the file."""
    if isinstance(error, BadInputError):
        _quarantine(store, source, f"{where}{error.reason}")
        return
    reason = f"{where}{type(error).__name__}: {error}"
    log.error("failed %s (retried on the next run): %s", source.rel_path, reason)
    store.upsert_source_file(source.model_copy(update={"status": FileStatus.FAILED, "error": reason}))


def plan_batch(batch_dir: Path, settings: Settings, store: CatalogueStore) -> BatchPlan:
    """Discover and check every file; list the pages not yet recognised."""
    batch, files, skipped = discover_batch(batch_dir)
    known = store.get_batch(batch.batch_id)
    if known is None:
        store.upsert_batch(batch)
    ctx = RunContext.create(settings, batch.batch_id, batch_dir)
    jobs: list[PageJob] = []
    total = 0
    for source in files:
        prior = store.get_source_file(batch.batch_id, source.rel_path)
        finished = (FileStatus.DONE, FileStatus.QUARANTINED)
        if prior is not None and prior.file_id == source.file_id and prior.status in finished:
            total += prior.page_count
            continue
        try:
            kind, count = probe_file(ctx.source_path(source.rel_path))
        except BadInputError as e:
            _quarantine(store, source, e.reason)
            continue
        source = source.model_copy(update={"kind": kind, "page_count": count, "status": FileStatus.PENDING})
        store.upsert_source_file(source)
        done = {p.page.page_no for p in store.pages(source.file_id)}
        total += count
        jobs.extend((source.file_id, source.rel_path, kind, n) for n in range(1, count + 1) if n not in done)
    return BatchPlan(context=ctx, files=len(files), total_pages=total, page_jobs=jobs, skipped=skipped)


def run_page(ctx: RunContext, file_id: str, rel_path: str, kind: FileKind, page_no: int) -> PageResult:
    return process_page(ctx, file_id, rel_path, kind, page_no)


def _source(store: CatalogueStore, ctx: RunContext, file_id: str) -> SourceFile:
    for f in store.source_files(ctx.batch_id):
        if f.file_id == file_id:
            return f
    raise KeyError(file_id)


def save_page_outcome(
    store: CatalogueStore, ctx: RunContext, file_id: str, page_no: int, outcome: PageResult | BaseException
) -> None:
    if isinstance(outcome, PageResult):
        store.save_page(ctx.batch_id, outcome)
        return
    # A document cannot be archived with a page missing: the whole file is set aside.
    _set_aside(store, _source(store, ctx, file_id), outcome, f"page {page_no}: ")


def files_ready_to_assemble(store: CatalogueStore, ctx: RunContext) -> list[SourceFile]:
    ready = []
    for f in store.source_files(ctx.batch_id):
        if f.status is FileStatus.PENDING and len(store.pages(f.file_id)) == f.page_count:
            ready.append(f)
    return ready


def run_assemble(ctx: RunContext, source: SourceFile, pages: list[PageResult]) -> list[Document]:
    return assemble_file(ctx, source, pages)


def save_assemble_outcome(
    store: CatalogueStore, ctx: RunContext, source: SourceFile, outcome: list[Document] | BaseException
) -> None:
    if isinstance(outcome, BaseException):
        _set_aside(store, source, outcome, "")
        return
    before = store.records(ctx.batch_id, file_id=source.file_id)
    store.replace_documents(ctx.batch_id, source.file_id, outcome)
    produced = {d.doc_id for d in outcome}
    in_use = {r.pdfa_path for r in store.records(ctx.batch_id, file_id=source.file_id)}
    for record in before:
        if record.doc_id not in produced and record.pdfa_path not in in_use:
            _remove_stale_pdfa(store, ctx, record)
    store.upsert_source_file(source.model_copy(update={"status": FileStatus.DONE, "error": None}))


def _remove_stale_pdfa(store: CatalogueStore, ctx: RunContext, record: ArchiveRecord) -> None:
    """The PDF/A of a document its file no longer yields (re-separated) would lie in the archive with no
    record pointing at it; it goes, and the audit trail says which file and why."""
    if not record.pdfa_path:
        return
    path = Path(record.pdfa_path)
    archive = (ctx.home / "archive").resolve()
    if not path.resolve().is_relative_to(archive):
        log.warning("not removing %s of record %s: it lies outside the archive %s", path, record.record_id, archive)
        return
    path.unlink(missing_ok=True)
    store.record_audit(
        AuditEvent(
            at=datetime.now(UTC),
            actor="pipeline",
            action="pdfa_removed",
            record_id=record.record_id,
            doc_id=record.doc_id,
            old=record.file_name or path.name,
            why="its document is no longer produced by the source file (separated differently on re-processing)",
        )
    )
    log.info("removed stale PDF/A %s of record %s", path.name, record.record_id)


def number_records(store: CatalogueStore, ctx: RunContext) -> list[ArchiveRecord]:
    """Give every document of the batch its record; existing records keep number and name."""
    batch = store.get_batch(ctx.batch_id)
    assert batch is not None
    docs = store.documents(ctx.batch_id)
    batch_docs = {d.doc_id for d in docs}
    all_records = store.records()
    existing = {r.doc_id: r for r in all_records}
    records = build_records(
        docs,
        existing=existing,
        all_archive_numbers=[r.archive_no for r in all_records],
        taken_file_names=[r.file_name for r in all_records if r.file_name and r.doc_id not in batch_docs],
        registry=get_registry(),
        manifest=batch.manifest,
        scan_date=batch.manifest.scan_date or batch.created_at.date(),
    )
    for record in records:
        store.save_record(record)
    return records


def records_to_archive(store: CatalogueStore, records: list[ArchiveRecord]) -> list[tuple[ArchiveRecord, Document]]:
    todo = []
    for record in records:
        if record.pdfa_path and record.sha256 and Path(record.pdfa_path).exists():
            continue
        doc = store.get_document(record.doc_id)
        if doc is not None:
            todo.append((record, doc))
    return todo


def run_archive(ctx: RunContext, record: ArchiveRecord, doc: Document, pages: list[PageResult]) -> ArchiveRecord:
    return archive_document(ctx, record, doc, pages)


def save_archive_outcome(store: CatalogueStore, record: ArchiveRecord, outcome: ArchiveRecord | BaseException) -> None:
    if isinstance(outcome, ArchiveRecord):
        store.save_record(outcome)
        return
    log.error("PDF/A for %s failed: %s: %s", record.archive_no, type(outcome).__name__, outcome)
    doc = store.get_document(record.doc_id)
    if doc is not None:
        reasons = [*doc.review_reasons, f"PDF/A not written: {type(outcome).__name__}: {outcome}"]
        store.update_document(doc.model_copy(update={"status": DocumentStatus.REVIEW, "review_reasons": reasons}))


def pages_by_document(store: CatalogueStore, docs: Iterable[Document]) -> dict[str, list[PageResult]]:
    """Each document's own pages in order, reading every source file's pages once."""
    by_file: dict[str, list[PageResult]] = {}
    out: dict[str, list[PageResult]] = {}
    for doc in docs:
        if doc.file_id not in by_file:
            by_file[doc.file_id] = sorted(store.pages(doc.file_id), key=lambda p: p.page.page_no)
        out[doc.doc_id] = [p for p in by_file[doc.file_id] if doc.first_page <= p.page.page_no <= doc.last_page]
    return out


def _search_docs(store: CatalogueStore, batch_id: str | None) -> list[SearchDoc]:
    documents = {d.doc_id: d for d in store.documents(batch_id)}
    pages = pages_by_document(store, documents.values())
    docs = []
    for record in store.records(batch_id):
        doc = documents.get(record.doc_id)
        if doc is None:
            continue
        docs.append(
            SearchDoc.from_record(
                record,
                form_id=doc.classification.label if doc.classification else None,
                status=doc.status,
                text="\n".join(p.ocr.text for p in pages[doc.doc_id]),
                fields={f.key: f.normalized or f.value or "" for f in doc.fields},
            )
        )
    return docs


def index_batch(store: CatalogueStore, settings: Settings, ctx: RunContext) -> int:
    """Records of the batch into the search index (rebuildable from the catalogue at any time)."""
    return open_search(settings).index(_search_docs(store, ctx.batch_id))


def reindex_all(settings: Settings) -> int:
    """Rebuild the whole index from the catalogue, the source of truth."""
    from pipeline.store import open_store

    store = open_store(settings.database_url)
    try:
        backend = open_search(settings)
        backend.clear()
        return backend.index(_search_docs(store, None))
    finally:
        store.close()


def queue_reviews(store: CatalogueStore, ctx: RunContext) -> int:
    """A QC task per document in review, plus the audit sample of accepted ones."""
    queued = 0
    open_docs = {t.doc_id for t in store.qc_tasks()}
    for doc in store.documents(ctx.batch_id):
        audit = doc.status is DocumentStatus.ACCEPTED and is_audit_sample(doc.doc_id, ctx.decide.audit_sample_rate)
        if doc.doc_id in open_docs or (doc.status is not DocumentStatus.REVIEW and not audit):
            continue
        store.upsert_qc_task(
            QcTask(
                task_id="q" + doc.doc_id,
                doc_id=doc.doc_id,
                reasons=doc.review_reasons if not audit else ["audit sample of an accepted document"],
                fields=[f.key for f in doc.fields if f.status.value in ("review", "missing")],
                audit_sample=audit,
                created_at=datetime.now(UTC),
            )
        )
        queued += 1
    return queued


def summarize(store: CatalogueStore, ctx: RunContext, plan: BatchPlan, seconds: float) -> BatchSummary:
    files = store.source_files(ctx.batch_id)
    docs = store.documents(ctx.batch_id)
    pages_done = sum(len(store.pages(f.file_id)) for f in files if f.status is FileStatus.DONE)
    return BatchSummary(
        batch_id=ctx.batch_id,
        batch_root=str(ctx.batch_root),
        files=len(files),
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
        skipped=plan.skipped,
        pages_processed_now=len(plan.page_jobs),
        seconds=round(seconds, 2),
        finished=date.today(),
    )
