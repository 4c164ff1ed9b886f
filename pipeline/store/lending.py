"""Lending requests in the catalogue. The rules that matter are WHERE clauses: a request is decided once,
never by the person who filed it; only an approved 借出 comes back; a copy is allowed only under a live
approved 复制 request filed by the same person."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, and_, select, update

from pipeline.errors import StoreConflictError
from pipeline.store.access_tables import LendRequestRow
from pipeline.store.engine import transaction
from schemas.lending import LendKind, LendRequest, LendStatus


class LendingError(StoreConflictError):
    """A decision or return that the request's state (or who asks) does not allow."""


def _model(row: LendRequestRow) -> LendRequest:
    return LendRequest.model_validate({c.key: getattr(row, c.key) for c in cast(Any, LendRequestRow.__table__).c})


class LendingStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def file(self, request: LendRequest) -> LendRequest:
        """Record a new request (its id is made here)."""
        stored = request.model_copy(update={"request_id": "L" + secrets.token_hex(6), "status": LendStatus.REQUESTED})
        with transaction(self._engine, "file a lending request", write=True) as s:
            s.add(LendRequestRow(**stored.model_dump() | {"kind": stored.kind.value, "status": stored.status.value}))
        return stored

    def get(self, request_id: str) -> LendRequest | None:
        with transaction(self._engine, "read a lending request", write=False) as s:
            row = s.get(LendRequestRow, request_id)
            return _model(row) if row is not None else None

    def requests(self, requested_by: str | None = None, record_id: str | None = None) -> list[LendRequest]:
        """Newest first; `requested_by` limits them to one person's (what counter staff see of the register)."""
        with transaction(self._engine, "list lending requests", write=False) as s:
            stmt = select(LendRequestRow)
            if requested_by is not None:
                stmt = stmt.where(LendRequestRow.requested_by == requested_by)
            if record_id is not None:
                stmt = stmt.where(LendRequestRow.record_id == record_id)
            return [_model(r) for r in s.scalars(stmt.order_by(LendRequestRow.requested_at.desc()))]

    def decide(
        self, request_id: str, approver: str, approve: bool, until: datetime | None, note: str | None, now: datetime
    ) -> LendRequest:
        """Approve or refuse a pending request; the one who filed it may not decide it."""
        with transaction(self._engine, "decide a lending request", write=True) as s:
            result = s.execute(
                update(LendRequestRow)
                .where(
                    and_(
                        LendRequestRow.request_id == request_id,
                        LendRequestRow.status == LendStatus.REQUESTED.value,
                        LendRequestRow.requested_by != approver,
                    )
                )
                .values(
                    status=(LendStatus.APPROVED if approve else LendStatus.REFUSED).value,
                    decided_by=approver,
                    decided_at=now,
                    decision_note=note,
                    until=until if approve else None,
                )
                .execution_options(synchronize_session=False)
            )
            row = s.get(LendRequestRow, request_id)
            if cast(Any, result).rowcount != 1 or row is None:
                if row is None:
                    raise LendingError(f"no lending request {request_id}")
                if row.requested_by == approver:
                    raise LendingError("a request is decided by someone other than the person who filed it")
                raise LendingError(f"request {request_id} was already {row.status} by {row.decided_by}")
            s.refresh(row)
            return _model(row)

    def register_return(self, request_id: str, by: str, now: datetime) -> LendRequest:
        """The lent-out paper is back: only an approved 借出 can be returned, once."""
        with transaction(self._engine, "register a return", write=True) as s:
            result = s.execute(
                update(LendRequestRow)
                .where(
                    LendRequestRow.request_id == request_id,
                    LendRequestRow.kind == LendKind.LEND.value,
                    LendRequestRow.status == LendStatus.APPROVED.value,
                )
                .values(status=LendStatus.RETURNED.value, returned_at=now, returned_to=by)
                .execution_options(synchronize_session=False)
            )
            row = s.get(LendRequestRow, request_id)
            if cast(Any, result).rowcount != 1 or row is None:
                raise LendingError(f"request {request_id} is not an approved 借出 waiting to come back")
            s.refresh(row)
            return _model(row)

    def copy_granted(self, username: str, record_id: str, now: datetime) -> LendRequest | None:
        """The live approved 复制 request `username` filed for the record, if any."""
        with transaction(self._engine, "check a copy approval", write=False) as s:
            row = s.scalars(
                select(LendRequestRow)
                .where(
                    LendRequestRow.record_id == record_id,
                    LendRequestRow.requested_by == username,
                    LendRequestRow.kind == LendKind.COPY.value,
                    LendRequestRow.status == LendStatus.APPROVED.value,
                    LendRequestRow.until > now,
                )
                .order_by(LendRequestRow.until.desc())
                .limit(1)
            ).first()
            return _model(row) if row is not None else None
