"""The audit trail as a hash chain: append under one lock, verify from the first entry to the last.

Every entry stores the hash of the entry before it and its own hash over (that link + its
content). Editing an entry makes its own hash wrong; removing one leaves the next entry linked
to a hash no entry has; editing and re-hashing one breaks the link of the entry after it. So
`verify` can name the entry that was touched. Cutting entries off the end leaves a valid,
shorter chain: the head hash printed by `dangan audit verify` is what to keep elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from pipeline.store import rows
from pipeline.store.tables import AuditEventRow
from schemas.models import AuditEvent

GENESIS = "0" * 64
# Any constant, distinct from the migration lock: it only has to be the same in every process.
_PG_AUDIT_LOCK = 0x61756474  # "audt"
_HASHED = ("event_key", "at", "actor", "action", "record_id", "doc_id", "field", "old", "new", "why", "client")


class ChainBreak(BaseModel):
    entry_id: int
    problem: str


class ChainReport(BaseModel):
    entries: int
    head_hash: str
    breaks: list[ChainBreak]

    @property
    def intact(self) -> bool:
        return not self.breaks


def entry_hash(prev_hash: str, values: dict[str, Any]) -> str:
    content = {k: values.get(k) for k in _HASHED}
    content["at"] = values["at"].isoformat()
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def append(session: Session, dialect: str, event: AuditEvent) -> bool:
    """Add `event` at the end of the chain; False when the identical event is already in it (a retry)."""
    values = rows.audit_values(event)
    if dialect == "postgresql":
        # One appender at a time, or two would link to the same predecessor. On SQLite the
        # caller's IMMEDIATE transaction already holds the only write lock.
        session.execute(select(func.pg_advisory_xact_lock(_PG_AUDIT_LOCK)))
    if session.scalar(select(AuditEventRow.id).where(AuditEventRow.event_key == values["event_key"])) is not None:
        return False
    prev = session.scalar(select(AuditEventRow.entry_hash).order_by(AuditEventRow.id.desc()).limit(1)) or GENESIS
    values["prev_hash"] = prev
    values["entry_hash"] = entry_hash(prev, values)
    session.execute(insert(AuditEventRow).values(**values))
    return True


def _describe(row: AuditEventRow) -> str:
    target = row.record_id or row.doc_id or "-"
    return f"#{row.id} ({row.at.isoformat()} {row.actor} {row.action} {target})"


def _row_values(row: AuditEventRow) -> dict[str, Any]:
    return {k: getattr(row, k) for k in _HASHED}


def verify(session: Session) -> ChainReport:
    """Walk the chain in order and name every entry that was edited, and every gap where one was removed."""
    breaks: list[ChainBreak] = []
    expected = GENESIS
    last_id = 0
    count = 0
    rows_iter: Iterator[AuditEventRow] = iter(
        session.scalars(select(AuditEventRow).order_by(AuditEventRow.id).execution_options(yield_per=1000))
    )
    for row in rows_iter:
        count += 1
        if row.prev_hash != expected:
            if row.id != last_id + 1:
                gone = f"#{last_id + 1}" if row.id == last_id + 2 else f"#{last_id + 1}..#{row.id - 1}"
                problem = f"entry {gone} removed: {_describe(row)} links to a hash no remaining entry has"
            else:
                problem = f"entry #{last_id} edited and re-hashed: {_describe(row)} still links to its old hash"
            breaks.append(ChainBreak(entry_id=row.id, problem=problem))
        if entry_hash(row.prev_hash, _row_values(row)) != row.entry_hash:
            breaks.append(ChainBreak(entry_id=row.id, problem=f"entry {_describe(row)} edited: content ≠ its hash"))
        expected = row.entry_hash
        last_id = row.id
    return ChainReport(entries=count, head_hash=expected, breaks=breaks)
