"""Leases on QC tasks: the next task for a reviewer that no one else holds, kept alive by heartbeats.

PostgreSQL picks the task with `FOR UPDATE SKIP LOCKED` (rows another reviewer is taking are
skipped, not waited for); SQLite picks and takes it in one conditional UPDATE under its single
write lock. A task is free when it is open and not postponed into the future, or when its
holder's lease has run out: a reviewer who vanishes loses the task at expiry.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Engine, and_, func, or_, select, update

from pipeline.errors import StoreConflictError
from pipeline.store import rows
from pipeline.store.engine import transaction
from pipeline.store.tables import DocumentRow, QcTaskRow
from schemas.models import QcTask
from schemas.review_work import Lease

log = logging.getLogger(__name__)


class LeaseError(StoreConflictError):
    """A save, heartbeat or postpone from a lease that is no longer the task's current one."""


def _free(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(QcTaskRow.status == "open", or_(QcTaskRow.postponed_until.is_(None), QcTaskRow.postponed_until <= now)),
        # A claim from before leases existed has no expiry: it counts as run out.
        and_(
            QcTaskRow.status == "claimed",
            or_(QcTaskRow.lease_expires_at.is_(None), QcTaskRow.lease_expires_at <= now),
        ),
    )


def _lease(row: QcTaskRow) -> Lease:
    assert row.lease_token is not None and row.lease_expires_at is not None and row.claimed_by is not None
    return Lease(
        task_id=row.task_id,
        doc_id=row.doc_id,
        reviewer=row.claimed_by,
        token=row.lease_token,
        expires_at=row.lease_expires_at,
    )


class LeaseStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    def claim_next(self, reviewer: str, now: datetime, ttl: timedelta, batch_id: str | None = None) -> Lease | None:
        """Lease the oldest free task (of `batch_id`, if given) to `reviewer`; None when the queue is empty."""
        free = select(QcTaskRow.task_id).where(_free(now))
        if batch_id is not None:
            free = free.join(DocumentRow, DocumentRow.doc_id == QcTaskRow.doc_id).where(
                DocumentRow.batch_id == batch_id
            )
        oldest = free.order_by(QcTaskRow.created_at, QcTaskRow.task_id).limit(1)
        values = {
            "status": "claimed",
            "claimed_by": reviewer,
            "claimed_at": now,
            "lease_token": secrets.token_hex(16),
            "lease_expires_at": now + ttl,
            "postponed_until": None,
        }
        with transaction(self._engine, "claim a review task", write=True) as s:
            if self._dialect == "postgresql":
                task_id = s.scalar(oldest.with_for_update(of=QcTaskRow, skip_locked=True))
                if task_id is None:
                    return None
                target: Any = QcTaskRow.task_id == task_id
            else:
                target = QcTaskRow.task_id == oldest.scalar_subquery()
            stmt = (
                update(QcTaskRow)
                .where(target, _free(now))
                .values(**values)
                .returning(QcTaskRow)
                .execution_options(synchronize_session=False)
            )
            row = s.scalars(stmt).one_or_none()
            if row is None:
                return None
            log.info("review task %s leased to %s until %s", row.task_id, reviewer, row.lease_expires_at)
            return _lease(row)

    def _held(self, task_id: str, reviewer: str, token: str, now: datetime) -> ColumnElement[bool]:
        return and_(
            QcTaskRow.task_id == task_id,
            QcTaskRow.status == "claimed",
            QcTaskRow.claimed_by == reviewer,
            QcTaskRow.lease_token == token,
            QcTaskRow.lease_expires_at > now,
        )

    def current(self, task_id: str, reviewer: str, token: str | None, now: datetime) -> Lease:
        """The live lease `reviewer` holds on the task (with `token`, if given), or LeaseError saying why not."""
        with transaction(self._engine, "read a review task", write=False) as s:
            row = s.get(QcTaskRow, task_id)
            self._check(row, task_id, reviewer, token, now)
            assert row is not None
            return _lease(row)

    @staticmethod
    def _check(row: QcTaskRow | None, task_id: str, reviewer: str, token: str | None, now: datetime) -> None:
        if row is None:
            raise LeaseError(f"task {task_id} is no longer in the queue (its document was re-processed)")
        if row.status == "done":
            raise LeaseError(f"task {task_id} was finished by {row.claimed_by}; take the next task")
        if row.status != "claimed" or row.claimed_by != reviewer:
            raise LeaseError(f"you do not hold task {task_id} (any more); take the next task")
        if token is not None and row.lease_token != token:
            raise LeaseError(f"task {task_id} was taken again since this page was opened; reload it")
        if row.lease_expires_at is None or row.lease_expires_at <= now:
            raise LeaseError(
                f"your lease on task {task_id} ran out at {row.lease_expires_at:%H:%M:%S} UTC and the task went "
                "back to the queue; nothing was saved, take the next task"
            )

    def _conditional(self, what: str, task_id: str, reviewer: str, token: str, now: datetime, **values: Any) -> None:
        with transaction(self._engine, what, write=True) as s:
            result = s.execute(
                update(QcTaskRow)
                .where(self._held(task_id, reviewer, token, now))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if cast(Any, result).rowcount != 1:
                self._check(s.get(QcTaskRow, task_id), task_id, reviewer, token, now)
                raise LeaseError(f"task {task_id} changed while saving; reload it")

    def heartbeat(self, task_id: str, reviewer: str, token: str, now: datetime, ttl: timedelta) -> datetime:
        """Keep the lease alive (the page is still open); returns the new expiry."""
        self._conditional("keep a review task", task_id, reviewer, token, now, lease_expires_at=now + ttl)
        return now + ttl

    def postpone(self, task_id: str, reviewer: str, token: str, now: datetime, until: datetime) -> None:
        """Give the task back, not to be handed out again before `until`."""
        self._conditional(
            "postpone a review task", task_id, reviewer, token, now,
            status="open", claimed_by=None, claimed_at=None, lease_token=None, lease_expires_at=None,
            postponed_until=until,
        )  # fmt: skip

    def complete(self, task_id: str, reviewer: str, token: str, now: datetime) -> None:
        """Finish the task; refused (LeaseError) unless `token` is the live lease of `reviewer`."""
        self._conditional(
            "finish a review task", task_id, reviewer, token, now,
            status="done", completed_at=now, lease_token=None, lease_expires_at=None,
        )  # fmt: skip

    def queue_size(self, now: datetime, batch_id: str | None = None) -> int:
        with transaction(self._engine, "count review tasks", write=False) as s:
            stmt = select(func.count()).select_from(QcTaskRow).where(_free(now))
            if batch_id is not None:
                stmt = stmt.join(DocumentRow, DocumentRow.doc_id == QcTaskRow.doc_id).where(
                    DocumentRow.batch_id == batch_id
                )
            return int(s.scalar(stmt) or 0)

    def task(self, task_id: str) -> QcTask | None:
        with transaction(self._engine, "read a review task", write=False) as s:
            row = s.get(QcTaskRow, task_id)
            return rows.qc_task_model(row) if row is not None else None
