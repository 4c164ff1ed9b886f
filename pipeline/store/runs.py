"""The runs over each batch: when each began and ended, and what was there before it (`BatchRun`)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pipeline.store.tables import BatchRunRow, PageRow, SourceFileRow
from schemas.models import BatchRun

Sessions = Callable[[str], AbstractContextManager[Session]]


def _model(row: BatchRunRow) -> BatchRun:
    return BatchRun(
        run_id=row.run_id,
        batch_id=row.batch_id,
        started_at=row.started_at,
        finished_at=row.finished_at,
        pages_before=row.pages_before,
        skipped=list(row.skipped),
    )


class BatchRuns:
    """`CatalogueStore.runs`: written by the plan and finish steps, read by the summary."""

    def __init__(self, dialect: str, read: Sessions, write: Sessions) -> None:
        self._dialect, self._read, self._write = dialect, read, write

    def start(self, run: BatchRun) -> None:
        """Record the run; the same run planned again (a retried task) keeps its start."""
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        stmt = insert(BatchRunRow).values(**run.model_dump(mode="python"))
        with self._write("save batch run") as s:
            s.execute(
                stmt.on_conflict_do_update(
                    index_elements=["batch_id", "run_id"],
                    set_={"pages_before": stmt.excluded.pages_before, "skipped": stmt.excluded.skipped},
                )
            )

    def finish(self, batch_id: str, run_id: str, at: datetime) -> None:
        with self._write("finish batch run") as s:
            s.execute(
                update(BatchRunRow)
                .where(BatchRunRow.batch_id == batch_id, BatchRunRow.run_id == run_id)
                .values(finished_at=at)
            )

    def get(self, batch_id: str, run_id: str) -> BatchRun | None:
        with self._read("read batch run") as s:
            row = s.get(BatchRunRow, (batch_id, run_id))
            return _model(row) if row is not None else None

    def pages_in_catalogue(self, batch_id: str) -> int:
        """Pages of the batch's files recognised so far (whatever became of the files)."""
        files = select(SourceFileRow.file_id).where(SourceFileRow.batch_id == batch_id)
        with self._read("count pages") as s:
            return s.scalar(select(func.count()).select_from(PageRow).where(PageRow.file_id.in_(files))) or 0
