"""A reviewer fixes the document itself: splits a wrongly joined one, merges one wrongly cut from the next,
or changes its form type. The documents of the source file are then re-made from their stored pages
by the pipeline's own stages (classification for a new first page, extraction, decision) and saved in
one replacement; new documents in review get their QC tasks, records follow (numbered, PDF/A written,
indexed), and the audit trail says what changed, who did it and why.

Documents are contiguous page runs of one file, so moving pages between two neighbours is moving the
boundary: a split and a merge.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from pipeline.archive.stage import archive_document
from pipeline.archive.stale import remove_stale_pdfa
from pipeline.assemble import form_classifier, read_fields
from pipeline.context import RunContext
from pipeline.decide import decide_document, decide_rows
from pipeline.identity import doc_id_for
from pipeline.records import build_records
from pipeline.review_queue import queue_reviews
from pipeline.store.leases import LeaseError
from review.audit_log import audit
from review.lookups import Held
from review.record_update import index_record
from review.state import AppState
from schemas.models import ArchiveRecord, Classification, Document, PageKind, PageResult
from schemas.registry import get_registry

log = logging.getLogger(__name__)


class RestructureError(Exception):
    """The change cannot be made as asked (a page outside the document, no next document, …)."""


class Change(BaseModel):
    kind: Literal["split", "merge", "retype"]
    at_page: int | None = None  # split: the document's page (1-based) that starts the new document
    form_id: str | None = None  # retype: the registry form the document really is


def _describe(docs: list[Document]) -> str:
    return " + ".join(
        f"p{d.first_page}-{d.last_page} {d.classification.label if d.classification else '?'}" for d in docs
    )


class _Remake:
    """Re-makes documents of one source file from its stored pages."""

    def __init__(self, state: AppState, base: Document, file_docs: list[Document], pages: list[PageResult]) -> None:
        self.state = state
        self.base = base
        self.by_no = {p.page.page_no: p for p in pages}
        self.kinds: dict[int, PageKind] = {}
        for d in file_docs:
            for n, kind in zip(range(d.first_page, d.last_page + 1), d.page_kinds, strict=False):
                self.kinds[n] = kind

    def classify(self, first_page: int) -> Classification | None:
        page = self.by_no.get(first_page)
        return form_classifier().classify(page.ocr) if page is not None else None

    def doc(self, doc_id: str | None, first: int, last: int, classification: Classification | None) -> Document:
        registry = get_registry()
        form = registry.form(classification.label) if classification and classification.label else None
        kinds = [self.kinds.get(n, PageKind.FORM) for n in range(first, last + 1)]
        form_pages = [
            (n - first + 1, self.by_no[n].ocr)
            for n, kind in zip(range(first, last + 1), kinds, strict=True)
            if kind is not PageKind.BLANK and n in self.by_no
        ]
        fields, rows = read_fields(form, form_pages) if form is not None else ([], [])
        doc = Document(
            doc_id=doc_id or doc_id_for(self.base.file_id, first),
            batch_id=self.base.batch_id,
            file_id=self.base.file_id,
            rel_path=self.base.rel_path,
            first_page=first,
            last_page=last,
            page_kinds=kinds,
            classification=classification,
            form_title=form.title if form is not None else None,
            fields=fields,
            table_rows=rows,
        )
        decide = self.state.settings.decide
        return decide_rows(decide_document(doc, form, decide), form, decide)


def _plan(
    work: Held, change: Change, remake: _Remake, file_docs: list[Document], at: datetime
) -> tuple[list[Document], list[str]]:
    """The documents that replace the changed ones, and the ids of those that go."""
    doc = work.doc
    if change.kind == "retype":
        registry = get_registry()
        if not change.form_id or change.form_id not in {f.form_id for f in registry.main_forms()}:
            raise RestructureError(f"no main form {change.form_id or '(none)'} in the registry")
        if doc.classification and doc.classification.label == change.form_id:
            raise RestructureError(f"the document is already a {registry.form(change.form_id).title}")
        forced = Classification(label=change.form_id, confidence=1.0, model_version=f"reviewer:{work.viewer.username}")
        return [remake.doc(doc.doc_id, doc.first_page, doc.last_page, forced)], []
    if change.kind == "split":
        pages = doc.last_page - doc.first_page + 1
        if change.at_page is None or not 2 <= change.at_page <= pages:
            raise RestructureError(f"a split starts a new document at page 2 to {pages} of this one")
        cut = doc.first_page + change.at_page - 1
        return [
            remake.doc(doc.doc_id, doc.first_page, cut - 1, doc.classification),
            remake.doc(None, cut, doc.last_page, remake.classify(cut)),
        ], []
    following = next((d for d in file_docs if d.first_page == doc.last_page + 1), None)
    if following is None:
        raise RestructureError("no document follows this one in its source file: nothing to merge with")
    holder = next((t for t in work.state.store.qc_tasks("claimed") if t.doc_id == following.doc_id), None)
    if holder is not None and holder.claimed_by not in (None, work.viewer.username):
        try:
            work.state.leases.current(holder.task_id, holder.claimed_by, None, at)
        except LeaseError:
            pass  # their lease ran out: the task is free to take, and so the document to merge
        else:
            raise RestructureError(f"the next document is being reviewed by {holder.claimed_by}; try again later")
    return [remake.doc(doc.doc_id, doc.first_page, following.last_page, doc.classification)], [following.doc_id]


def restructure(state: AppState, work: Held, change: Change, why: str, at: datetime) -> list[Document]:
    """Apply `change` to the held task's document; returns the documents that replaced it."""
    doc = work.doc
    file_docs = sorted(
        (d for d in state.store.documents(doc.batch_id) if d.file_id == doc.file_id), key=lambda d: d.first_page
    )
    remake = _Remake(state, doc, file_docs, state.store.pages(doc.file_id))
    made, gone = _plan(work, change, remake, file_docs, at)
    replaced = {doc.doc_id, *gone}
    before_records = {r.doc_id: r for r in state.store.records(doc.batch_id, file_id=doc.file_id)}
    kept = [d for d in file_docs if d.doc_id not in replaced]
    state.store.replace_documents(doc.batch_id, doc.file_id, sorted([*kept, *made], key=lambda d: d.first_page))
    # The held task stays the reviewer's, now asking about the re-made document's fields.
    flagged = [f.key for f in made[0].fields if f.status.value in ("review", "missing")]
    task = work.task.model_copy(update={"reasons": made[0].review_reasons or work.task.reasons, "fields": flagged})
    state.store.upsert_qc_task(task)
    queue_reviews(state.store, doc.batch_id, state.settings.decide.audit_sample_rate)
    old = _describe([d for d in file_docs if d.doc_id in replaced])
    audit(state, work.viewer, change.kind, doc_id=doc.doc_id, field="form" if change.kind == "retype" else "pages",
          old=old, new=_describe(made), why=why)  # fmt: skip
    if before_records:
        _follow_records(state, made, [before_records[d] for d in gone if d in before_records])
    log.info("document %s: %s by %s (%s → %s)", doc.doc_id, change.kind, work.viewer.username, old, _describe(made))
    return made


def _follow_records(state: AppState, made: list[Document], removed: list[ArchiveRecord]) -> None:
    """Records for the re-made documents (numbers and names kept where a document kept its id), their PDF/A
    written again from the new page run, the records of documents that went removed with their files."""
    batch = state.store.get_batch(made[0].batch_id)
    assert batch is not None
    ctx = RunContext.create(state.settings, batch.batch_id, Path(batch.root))
    for record in removed:
        remove_stale_pdfa(state.store, ctx.archive_root, record)
    state.search.delete([r.record_id for r in removed])
    everything = state.store.records()
    made_ids = {d.doc_id for d in made}
    records = build_records(
        made,
        existing={r.doc_id: r for r in everything},
        all_archive_numbers=[r.archive_no for r in everything],
        taken_file_names=[r.file_name for r in everything if r.file_name and r.doc_id not in made_ids],
        registry=get_registry(),
        manifest=batch.manifest,
        scan_date=batch.manifest.scan_date or batch.created_at.date(),
    )
    pages = state.store.pages(made[0].file_id)
    by_doc = {r.doc_id: r for r in everything}
    for built, doc in zip(records, sorted(made, key=lambda d: (d.rel_path, d.first_page)), strict=True):
        prior = by_doc.get(doc.doc_id)
        # A record keeps its identity (links, audit history) when its document kept its id.
        record = built.model_copy(update={"record_id": prior.record_id}) if prior else built
        stale = Path(record.pdfa_path) if record.pdfa_path else None
        # The pages changed: the file is written again, never kept because its old hash still matches.
        fresh = archive_document(ctx, record.model_copy(update={"pdfa_path": None, "sha256": None}), doc, pages)
        if stale is not None and stale != Path(str(fresh.pdfa_path)) and stale.is_file():
            remove_stale_pdfa(state.store, ctx.archive_root, record)
        state.store.save_record(fresh)
        index_record(state, fresh, doc)
