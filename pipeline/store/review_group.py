"""Group verification's leases: many tasks at once, all flagging the same field (every uncertain ID
number of a batch on one screen), each still held by one reviewer only.

The claim picks candidates without locks, then takes them in one conditional UPDATE that re-checks
each row is still free: on PostgreSQL a row another reviewer is taking is waited for and re-checked
(READ COMMITTED), on SQLite the single write lock serialises claims. Either way no task is held twice.
"""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, and_, select, update

from pipeline.store.engine import transaction
from pipeline.store.leases import LeaseError, LeaseStore, _free, _lease
from pipeline.store.tables import DocumentRow, QcTaskRow
from schemas.review_work import Lease

_OPEN = {
    "status": "open",
    "claimed_by": None,
    "claimed_at": None,
    "lease_token": None,
    "lease_expires_at": None,
    "postponed_until": None,
}
# More than a screen never helps: the reviewer confirms what they can see.
MAX_GROUP = 60


class GroupLeases:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _candidates(self, s: Any, now: datetime, batch_id: str | None) -> list[QcTaskRow]:
        stmt = select(QcTaskRow).where(_free(now))
        if batch_id is not None:
            stmt = stmt.join(DocumentRow, DocumentRow.doc_id == QcTaskRow.doc_id).where(
                DocumentRow.batch_id == batch_id
            )
        return list(s.scalars(stmt.order_by(QcTaskRow.created_at, QcTaskRow.task_id)))

    def waiting_by_field(self, now: datetime, batch_id: str | None = None) -> dict[str, int]:
        """How many free tasks flag each field key: what a group screen could clear."""
        with transaction(self._engine, "count review tasks by field", write=False) as s:
            counts: Counter[str] = Counter()
            for row in self._candidates(s, now, batch_id):
                counts.update(set(row.fields))
            return dict(counts.most_common())

    def claim(
        self, reviewer: str, key: str, now: datetime, ttl: timedelta, batch_id: str | None = None, limit: int = 24
    ) -> list[Lease]:
        """Lease up to `limit` of the oldest free tasks that flag `key` to `reviewer`, in one claim."""
        limit = max(1, min(limit, MAX_GROUP))
        with transaction(self._engine, "claim a group of review tasks", write=True) as s:
            wanted = [r.task_id for r in self._candidates(s, now, batch_id) if key in r.fields][:limit]
            if not wanted:
                return []
            claimed = {
                "status": "claimed",
                "claimed_by": reviewer,
                "claimed_at": now,
                "lease_token": secrets.token_hex(16),
                "lease_expires_at": now + ttl,
                "postponed_until": None,
            }
            stmt = (
                update(QcTaskRow)
                .where(QcTaskRow.task_id.in_(wanted), _free(now))
                .values(**claimed)
                .returning(QcTaskRow)
                .execution_options(synchronize_session=False)
            )
            got = {row.task_id: _lease(row) for row in s.scalars(stmt)}
            return [got[t] for t in wanted if t in got]

    def held(self, reviewer: str, key: str, now: datetime) -> list[Lease]:
        """The live leases `reviewer` holds on tasks that flag `key`, oldest task first."""
        with transaction(self._engine, "read held review tasks", write=False) as s:
            stmt = (
                select(QcTaskRow)
                .where(
                    QcTaskRow.status == "claimed", QcTaskRow.claimed_by == reviewer, QcTaskRow.lease_expires_at > now
                )
                .order_by(QcTaskRow.created_at, QcTaskRow.task_id)
            )
            return [_lease(r) for r in s.scalars(stmt) if key in r.fields]

    def give_back(self, task_id: str, reviewer: str, token: str, now: datetime, drop_key: str | None = None) -> None:
        """Return a held task to the queue at once; `drop_key` no longer needs a look (it was verified)."""
        with transaction(self._engine, "give a review task back", write=True) as s:
            row = s.get(QcTaskRow, task_id)
            LeaseStore._check(row, task_id, reviewer, token, now)
            assert row is not None
            fields = [k for k in row.fields if k != drop_key]
            result = s.execute(
                update(QcTaskRow)
                .where(
                    and_(
                        QcTaskRow.task_id == task_id,
                        QcTaskRow.claimed_by == reviewer,
                        QcTaskRow.lease_token == token,
                        QcTaskRow.lease_expires_at > now,
                    )
                )
                .values(**_OPEN, fields=fields)
                .execution_options(synchronize_session=False)
            )
            if cast(Any, result).rowcount != 1:
                raise LeaseError(f"task {task_id} changed while giving it back; reload the page")
