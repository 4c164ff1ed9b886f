"""The catalogue store: the source of truth for batches, pages, documents, records and review.

Every pipeline write is an upsert keyed by a deterministic id, so a killed run that is
started again neither loses nor doubles anything.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, cast

from alembic.util import CommandError
from sqlalchemy import Engine, Select, Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from pipeline.errors import StoreConflictError, StoreError
from pipeline.store import audit_chain, rows
from pipeline.store.engine import create_store_engine, error_reason, mask_url, transaction
from pipeline.store.migrate import upgrade_to_head
from pipeline.store.runs import BatchRuns
from pipeline.store.tables import (
    AuditEventRow,
    Base,
    BatchRow,
    DocumentRow,
    FieldRow,
    PageRow,
    QcTaskRow,
    RecordRow,
    SourceFileRow,
)
from schemas.models import (
    ArchiveRecord,
    AuditEvent,
    Batch,
    Document,
    DocumentStatus,
    ExtractedField,
    FieldStatus,
    FileStatus,
    PageResult,
    QcTask,
    SourceFile,
)

log = logging.getLogger(__name__)


def open_store(url: str) -> CatalogueStore:
    """Open (creating if needed) the catalogue at `url` and bring its schema to head."""
    engine = create_store_engine(url)
    try:
        upgrade_to_head(engine)
    except (SQLAlchemyError, CommandError, OSError) as e:
        engine.dispose()
        raise StoreError(
            f"cannot open catalogue database {mask_url(url)}: {error_reason(e)}; "
            "check that the server is running and DANGAN_DB_URL is right"
        ) from e
    return CatalogueStore(engine)


def _now() -> datetime:
    return datetime.now(UTC)


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


class CatalogueStore:
    """Typed access to the catalogue; takes and returns pydantic models only."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        self.url = mask_url(engine.url)
        self.runs = BatchRuns(self._dialect, self._read, self._write)

    @property
    def engine(self) -> Engine:
        """For the stores of other parts (the review application) that share this database."""
        return self._engine

    # -- plumbing -------------------------------------------------------------------------

    def _session(self, what: str, write: bool) -> AbstractContextManager[Session]:
        return transaction(self._engine, what, write)

    def _read(self, what: str) -> AbstractContextManager[Session]:
        return self._session(what, write=False)

    def _write(self, what: str) -> AbstractContextManager[Session]:
        return self._session(what, write=True)

    def _upsert(
        self,
        session: Session,
        model: type[Base],
        values: rows.Values | list[rows.Values],
        keys: Sequence[str],
        update_cols: Sequence[str] | None = None,
    ) -> None:
        """INSERT … ON CONFLICT (keys) DO UPDATE, the same statement on both databases."""
        batch = values if isinstance(values, list) else [values]
        if not batch:
            return
        table = _table(model)
        dialect_insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        stmt = dialect_insert(table)
        cols = update_cols if update_cols is not None else [c for c in batch[0] if c not in keys]
        if cols:
            final = stmt.on_conflict_do_update(index_elements=list(keys), set_={c: stmt.excluded[c] for c in cols})
        else:
            final = stmt.on_conflict_do_nothing(index_elements=list(keys))
        session.execute(final, batch)

    # -- batches and files ----------------------------------------------------------------

    def upsert_batch(self, batch: Batch) -> None:
        with self._write("save batch") as s:
            # created_at is when the batch was first seen; a re-run keeps it.
            self._upsert(s, BatchRow, rows.batch_values(batch), ["batch_id"], ["root", "manifest"])

    def get_batch(self, batch_id: str) -> Batch | None:
        with self._read("read batch") as s:
            row = s.get(BatchRow, batch_id)
            return rows.batch_model(row) if row is not None else None

    def upsert_source_file(self, source_file: SourceFile) -> None:
        with self._write("save source file") as s:
            values = rows.source_file_values(source_file, _now())
            self._upsert(s, SourceFileRow, values, ["batch_id", "rel_path"])

    def source_files(self, batch_id: str) -> list[SourceFile]:
        with self._read("list source files") as s:
            stmt = select(SourceFileRow).where(SourceFileRow.batch_id == batch_id)
            return [rows.source_file_model(r) for r in s.scalars(stmt.order_by(SourceFileRow.rel_path))]

    def get_source_file(self, batch_id: str, rel_path: str) -> SourceFile | None:
        with self._read("read source file") as s:
            row = s.get(SourceFileRow, (batch_id, rel_path))
            return rows.source_file_model(row) if row is not None else None

    def original_of(self, source: SourceFile) -> SourceFile | None:
        """The file with the bytes of `source`, in any batch, taken in first (not itself a duplicate)."""
        with self._read("find original") as s:
            stmt = (
                select(SourceFileRow)
                .join(BatchRow, BatchRow.batch_id == SourceFileRow.batch_id)
                .where(
                    SourceFileRow.sha256 == source.sha256,
                    or_(SourceFileRow.batch_id != source.batch_id, SourceFileRow.rel_path != source.rel_path),
                    SourceFileRow.status.in_(
                        [FileStatus.DONE.value, FileStatus.PENDING.value, FileStatus.QUARANTINED.value]
                    ),
                )
                .order_by(BatchRow.created_at, SourceFileRow.batch_id, SourceFileRow.rel_path)
                .limit(1)
            )
            row = s.scalars(stmt).first()
            return rows.source_file_model(row) if row is not None else None

    # -- pages ----------------------------------------------------------------------------

    def save_page(self, batch_id: str, page: PageResult) -> None:
        with self._write("save page") as s:
            self._upsert(s, PageRow, rows.page_values(batch_id, page), ["file_id", "page_no"])

    def pages(self, file_id: str) -> list[PageResult]:
        with self._read("list pages") as s:
            stmt = select(PageRow).where(PageRow.file_id == file_id).order_by(PageRow.page_no)
            return [PageResult.model_validate(r.data) for r in s.scalars(stmt)]

    # -- documents ------------------------------------------------------------------------

    def replace_documents(self, batch_id: str, file_id: str, docs: list[Document]) -> None:
        """Make `docs` the documents of one source file, in one transaction.

        Documents the file no longer yields go, with their fields, records and QC tasks;
        documents that are still produced are updated in place and keep their record and
        QC task (their ids are deterministic).
        """
        for doc in docs:
            if doc.batch_id != batch_id or doc.file_id != file_id:
                raise ValueError(
                    f"document {doc.doc_id} belongs to {doc.batch_id}/{doc.file_id}, not {batch_id}/{file_id}"
                )
        keep = [d.doc_id for d in docs]
        with self._write("replace documents") as s:
            stale = list(
                s.scalars(
                    select(DocumentRow.doc_id).where(
                        DocumentRow.batch_id == batch_id,
                        DocumentRow.file_id == file_id,
                        DocumentRow.doc_id.not_in(keep),
                    )
                )
            )
            if stale:
                # Explicit child-first deletes: correct even where foreign keys are not enforced.
                for model in (QcTaskRow, RecordRow, FieldRow, DocumentRow):
                    s.execute(delete(_table(model)).where(_table(model).c.doc_id.in_(stale)))
                log.info("removed %d stale documents of file %s in batch %s", len(stale), file_id, batch_id)
            now = _now()
            for doc in docs:
                self._put_document(s, self._with_reviewed_fields(s, doc), now)

    @staticmethod
    def _with_reviewed_fields(s: Session, doc: Document) -> Document:
        """`doc` as re-derived, with the values a reviewer corrected or confirmed kept: a person's word
        outranks a machine reading of the same page, however often the file is processed again.

        A form may print a key twice (two applicants), so a field is matched by key and occurrence.
        """
        stored = s.scalars(select(FieldRow).where(FieldRow.doc_id == doc.doc_id).order_by(FieldRow.position))
        seen: Counter[str] = Counter()
        reviewed: dict[tuple[str, int], ExtractedField] = {}
        for row in stored:
            occurrence = seen[row.key]
            seen[row.key] += 1
            if row.status in (FieldStatus.CORRECTED.value, FieldStatus.CONFIRMED.value):
                reviewed[(row.key, occurrence)] = rows.field_model(row)
        if not reviewed:
            return doc
        kept = len(reviewed)
        seen.clear()
        fields = []
        for f in doc.fields:
            fields.append(reviewed.pop((f.key, seen[f.key]), f))
            seen[f.key] += 1
        fields.extend(reviewed.values())  # fields a reviewer added that the extractor no longer finds
        log.info("kept %d reviewed field(s) of document %s", kept, doc.doc_id)
        return doc.model_copy(update={"fields": fields})

    def _put_document(self, s: Session, doc: Document, now: datetime) -> None:
        self._upsert(s, DocumentRow, rows.document_values(doc, now), ["doc_id"])
        s.execute(delete(FieldRow).where(FieldRow.doc_id == doc.doc_id))
        field_rows = rows.field_values(doc.doc_id, doc.fields)
        if field_rows:
            s.execute(insert(FieldRow), field_rows)

    def documents(self, batch_id: str | None = None, status: DocumentStatus | str | None = None) -> list[Document]:
        with self._read("list documents") as s:
            doc_stmt = self._filter_docs(select(DocumentRow), batch_id, status)
            doc_rows = list(s.scalars(doc_stmt.order_by(*self._doc_order())))
            field_stmt = self._filter_docs(
                select(FieldRow).join(DocumentRow, FieldRow.doc_id == DocumentRow.doc_id), batch_id, status
            )
            by_doc: dict[str, list[FieldRow]] = defaultdict(list)
            for f in s.scalars(field_stmt):
                by_doc[f.doc_id].append(f)
            return [rows.document_model(d, by_doc[d.doc_id]) for d in doc_rows]

    @staticmethod
    def _filter_docs(stmt: Select[Any], batch_id: str | None, status: DocumentStatus | str | None) -> Select[Any]:
        if batch_id is not None:
            stmt = stmt.where(DocumentRow.batch_id == batch_id)
        if status is not None:
            stmt = stmt.where(DocumentRow.status == DocumentStatus(status).value)
        return stmt

    @staticmethod
    def _doc_order() -> tuple[Any, ...]:
        return (DocumentRow.batch_id, DocumentRow.rel_path, DocumentRow.first_page, DocumentRow.doc_id)

    def get_document(self, doc_id: str) -> Document | None:
        with self._read("read document") as s:
            row = s.get(DocumentRow, doc_id)
            if row is None:
                return None
            return rows.document_model(row, list(s.scalars(select(FieldRow).where(FieldRow.doc_id == doc_id))))

    def update_document(self, doc: Document) -> None:
        """Save a changed document (a reviewer's corrections); it must still exist."""
        with self._write("update document") as s:
            if s.get(DocumentRow, doc.doc_id) is None:
                raise StoreConflictError(
                    f"document {doc.doc_id} is no longer in the catalogue (its file was re-processed); "
                    "reload the batch and review the new documents"
                )
            self._put_document(s, doc, _now())

    # -- records --------------------------------------------------------------------------

    def save_record(self, record: ArchiveRecord) -> None:
        with self._write("save record") as s:
            values = rows.record_values(record, _now())
            cols = [c for c in values if c not in ("record_id", "created_at")]
            self._upsert(s, RecordRow, values, ["record_id"], cols)

    def records(self, batch_id: str | None = None, file_id: str | None = None) -> list[ArchiveRecord]:
        with self._read("list records") as s:
            stmt = select(RecordRow).join(DocumentRow, RecordRow.doc_id == DocumentRow.doc_id)
            if batch_id is not None:
                stmt = stmt.where(DocumentRow.batch_id == batch_id)
            if file_id is not None:
                stmt = stmt.where(DocumentRow.file_id == file_id)
            return [rows.record_model(r) for r in s.scalars(stmt.order_by(*self._doc_order()))]

    def get_record(self, record_id: str) -> ArchiveRecord | None:
        with self._read("read record") as s:
            row = s.get(RecordRow, record_id)
            return rows.record_model(row) if row is not None else None

    def record_for_doc(self, doc_id: str) -> ArchiveRecord | None:
        with self._read("read record") as s:
            row = s.scalars(select(RecordRow).where(RecordRow.doc_id == doc_id)).one_or_none()
            return rows.record_model(row) if row is not None else None

    # -- QC review queue ------------------------------------------------------------------

    def upsert_qc_task(self, task: QcTask) -> None:
        """Create a task, or refresh what it asks for; a re-run never reopens a claimed or done task."""
        with self._write("save QC task") as s:
            values = rows.qc_task_values(task, _now())
            self._upsert(s, QcTaskRow, values, ["task_id"], ["doc_id", "reasons", "fields", "audit_sample"])

    def qc_tasks(self, status: str | None = None) -> list[QcTask]:
        with self._read("list QC tasks") as s:
            stmt = select(QcTaskRow)
            if status is not None:
                stmt = stmt.where(QcTaskRow.status == status)
            return [rows.qc_task_model(r) for r in s.scalars(stmt.order_by(*self._queue_order()))]

    @staticmethod
    def _queue_order() -> tuple[Any, ...]:
        return (QcTaskRow.created_at, QcTaskRow.task_id)

    def claim_next_qc_task(self, reviewer: str) -> QcTask | None:
        """Give the oldest open task to `reviewer`; two reviewers never get the same one."""
        with self._write("claim QC task") as s:
            claim = {"status": "claimed", "claimed_by": reviewer, "claimed_at": _now()}
            oldest_open = (
                select(QcTaskRow.task_id).where(QcTaskRow.status == "open").order_by(*self._queue_order()).limit(1)
            )
            if self._dialect == "postgresql":
                # Rows another reviewer is claiming right now are skipped, not waited for.
                task_id = s.scalar(oldest_open.with_for_update(skip_locked=True))
                if task_id is None:
                    return None
                target = QcTaskRow.task_id == task_id
            else:
                # One conditional UPDATE under SQLite's single write lock: pick and claim at once.
                target = QcTaskRow.task_id == oldest_open.scalar_subquery()
            stmt = (
                update(QcTaskRow)
                .where(target, QcTaskRow.status == "open")
                .values(**claim)
                .returning(QcTaskRow)
                .execution_options(synchronize_session=False)
            )
            row = s.scalars(stmt).one_or_none()
            if row is None:
                return None
            log.info("QC task %s claimed by %s", row.task_id, reviewer)
            return rows.qc_task_model(row)

    def complete_qc_task(self, task_id: str, reviewer: str) -> None:
        """Mark a task done by `reviewer` (who claimed it, or an open one). Repeating is harmless."""
        with self._write("complete QC task") as s:
            now = _now()
            result = s.execute(
                update(QcTaskRow)
                .where(
                    QcTaskRow.task_id == task_id,
                    or_(
                        QcTaskRow.status == "open",
                        and_(QcTaskRow.status == "claimed", QcTaskRow.claimed_by == reviewer),
                    ),
                )
                .values(
                    status="done",
                    claimed_by=reviewer,
                    claimed_at=func.coalesce(QcTaskRow.claimed_at, now),
                    completed_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if cast(Any, result).rowcount == 1:
                return
            row = s.get(QcTaskRow, task_id)
            if row is None:
                raise StoreConflictError(f"QC task {task_id} does not exist; its document may have been re-derived")
            if row.status == "done" and row.claimed_by == reviewer:
                return
            raise StoreConflictError(
                f"QC task {task_id} is {row.status} by {row.claimed_by}, not {reviewer}; claim another task"
            )

    def release_qc_task(self, task_id: str, reviewer: str) -> None:
        """Give a claimed task back to the queue unfinished (the reviewer stepped away)."""
        with self._write("release QC task") as s:
            s.execute(
                update(QcTaskRow)
                .where(
                    QcTaskRow.task_id == task_id,
                    QcTaskRow.status == "claimed",
                    QcTaskRow.claimed_by == reviewer,
                )
                .values(status="open", claimed_by=None, claimed_at=None)
                .execution_options(synchronize_session=False)
            )

    # -- audit ----------------------------------------------------------------------------

    def record_audit(self, event: AuditEvent) -> None:
        """Append an event; the identical event recorded again (a retried task) is kept once."""
        with self._write("record audit event") as s:
            audit_chain.append(s, self._dialect, event)

    def verify_audit(self) -> audit_chain.ChainReport:
        """Check the audit trail's hash chain; a removed or edited entry is named in the report."""
        with self._read("verify audit trail") as s:
            return audit_chain.verify(s)

    def audit_events(self, record_id: str | None = None, doc_id: str | None = None) -> list[AuditEvent]:
        with self._read("list audit events") as s:
            stmt = select(AuditEventRow)
            if record_id is not None:
                stmt = stmt.where(AuditEventRow.record_id == record_id)
            if doc_id is not None:
                stmt = stmt.where(AuditEventRow.doc_id == doc_id)
            return [rows.audit_model(r) for r in s.scalars(stmt.order_by(AuditEventRow.at, AuditEventRow.id))]

    # -- reporting ------------------------------------------------------------------------

    def stats(self, batch_id: str) -> dict[str, int]:
        """Counts for a batch report: files/documents/QC tasks by status, pages, records."""
        out = dict.fromkeys(
            (
                "files", "files_pending", "files_done", "files_quarantined", "pages",
                "documents", "documents_accepted", "documents_review", "fields", "fields_review",
                "records", "qc_open", "qc_claimed", "qc_done",
            ),
            0,
        )  # fmt: skip
        in_batch = DocumentRow.batch_id == batch_id
        with self._read("batch statistics") as s:
            for status, n in s.execute(
                select(SourceFileRow.status, func.count())
                .where(SourceFileRow.batch_id == batch_id)
                .group_by(SourceFileRow.status)
            ):
                out[f"files_{status}"] = n
                out["files"] += n
            batch_files = select(SourceFileRow.file_id).where(SourceFileRow.batch_id == batch_id)
            out["pages"] = (
                s.scalar(select(func.count()).select_from(PageRow).where(PageRow.file_id.in_(batch_files))) or 0
            )
            for status, n in s.execute(
                select(DocumentRow.status, func.count()).where(in_batch).group_by(DocumentRow.status)
            ):
                out[f"documents_{status}"] = n
                out["documents"] += n
            for status, n in s.execute(
                select(FieldRow.status, func.count()).join(DocumentRow).where(in_batch).group_by(FieldRow.status)
            ):
                out["fields"] += n
                if status == "review":
                    out["fields_review"] = n
            out["records"] = (
                s.scalar(select(func.count()).select_from(RecordRow).join(DocumentRow).where(in_batch)) or 0
            )
            for status, n in s.execute(
                select(QcTaskRow.status, func.count()).join(DocumentRow).where(in_batch).group_by(QcTaskRow.status)
            ):
                out[f"qc_{status}"] = n
        return out

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> CatalogueStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
