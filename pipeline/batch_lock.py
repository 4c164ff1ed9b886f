"""One run per batch at a time: a lock per batch, which the operating system or the database frees when its
holder dies, however it dies (kill -9, a lost machine).

On PostgreSQL it is a session advisory lock keyed on the batch id, so runs on different machines see each
other; on SQLite (one machine by nature) an flock()ed file under the settings home. An embedded run holds
it exclusively from plan to summary. Airflow's tasks of a DAG run hold it shared while each one works, so
the mapped tasks run side by side but never beside an embedded run; the DAG's plan task takes it
exclusively for the moment it plans (and removes the partial files a killed run left).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from pipeline.errors import BatchBusyError, StoreError
from pipeline.settings import Settings
from pipeline.store.engine import error_reason, mask_url

log = logging.getLogger(__name__)

WAIT_POLL_SECONDS = 0.5


class LockMode(StrEnum):
    EXCLUSIVE = "exclusive"
    """An embedded run, or the DAG's plan task: nothing else works on the batch meanwhile."""
    SHARED = "shared"
    """An Airflow task of a DAG run: beside the run's other tasks, never beside an exclusive holder."""


def _who(role: str) -> str:
    since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{role}, pid {os.getpid()} on {socket.gethostname()}, since {since}"


class BatchLock(ABC):
    """The lock of one batch; `try_acquire` never blocks (waiting is `hold_batch`'s loop)."""

    def __init__(self, batch_id: str, mode: LockMode, who: str) -> None:
        self.batch_id, self.mode, self.who = batch_id, mode, who
        self.held = False

    @abstractmethod
    def try_acquire(self) -> bool: ...

    @abstractmethod
    def release(self) -> None: ...

    @abstractmethod
    def holder(self) -> str:
        """Who holds the lock, as far as can be told (for the refusal's message)."""

    @abstractmethod
    def _other_is_idle(self, batch_id: str) -> bool: ...

    def batch_is_idle(self, batch_id: str) -> bool:
        """Whether no run works on `batch_id` now (its lock is free); our own batch, held exclusively, is."""
        if batch_id == self.batch_id:
            return self.held and self.mode is LockMode.EXCLUSIVE
        return self._other_is_idle(batch_id)


class FileBatchLock(BatchLock):
    """flock() on <home>/locks/<batch>.lock; the file says who holds it, for a refused run's message."""

    def __init__(self, folder: Path, batch_id: str, mode: LockMode, who: str) -> None:
        super().__init__(batch_id, mode, who)
        self.folder = folder
        self.path = folder / f"{batch_id}.lock"
        self._fd: int | None = None

    @staticmethod
    def _flock(fd: int, mode: LockMode) -> bool:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if mode is LockMode.EXCLUSIVE else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def try_acquire(self) -> bool:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not self._flock(fd, self.mode):
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, self.who.encode(), 0)
        self._fd, self.held = fd, True
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        if self.mode is LockMode.EXCLUSIVE:
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the descriptor is what frees the flock
        self._fd, self.held = None, False

    def holder(self) -> str:
        try:
            said = self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            said = ""
        return said or "another process (it has not said who)"

    def _other_is_idle(self, batch_id: str) -> bool:
        path = self.folder / f"{batch_id}.lock"
        if not path.exists():
            return True
        fd = os.open(path, os.O_RDONLY)
        try:
            return self._flock(fd, LockMode.EXCLUSIVE)
        finally:
            os.close(fd)


def advisory_key(batch_id: str) -> int:
    """The batch's 64-bit advisory lock key (signed, as PostgreSQL's bigint)."""
    digest = hashlib.sha256(f"dangan-batch\0{batch_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PgBatchLock(BatchLock):
    """A session advisory lock on a connection of its own, kept for as long as the lock is held.

    The connection's application_name says who holds it: a refused run reads it from pg_stat_activity.
    """

    def __init__(self, url: str, batch_id: str, mode: LockMode, who: str) -> None:
        super().__init__(batch_id, mode, who)
        try:
            self._engine = create_engine(make_url(url), poolclass=NullPool, connect_args={"application_name": who[:63]})
        except (ArgumentError, ValueError) as e:
            raise StoreError(f"cannot parse database URL {mask_url(url)!r}: {e}") from e
        self._conn: Connection | None = None

    def _scalar(self, sql: str, **params: int) -> object:
        try:
            if self._conn is None:
                self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            return self._conn.execute(text(sql), params).scalar()
        except SQLAlchemyError as e:
            raise StoreError(
                f"catalogue {mask_url(self._engine.url)}: the lock of batch {self.batch_id} failed: {error_reason(e)}"
            ) from e

    def try_acquire(self) -> bool:
        fn = "pg_try_advisory_lock" if self.mode is LockMode.EXCLUSIVE else "pg_try_advisory_lock_shared"
        self.held = bool(self._scalar(f"SELECT {fn}(:key)", key=advisory_key(self.batch_id)))
        return self.held

    def release(self) -> None:
        # Closing the session frees its advisory locks, exactly as the server does when a holder dies.
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.held = False
        self._engine.dispose()

    def holder(self) -> str:
        unsigned = advisory_key(self.batch_id) & 0xFFFF_FFFF_FFFF_FFFF
        name = self._scalar(
            "SELECT string_agg(a.application_name, '; ') FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND l.classid::bigint = :hi AND l.objid::bigint = :lo",
            hi=unsigned >> 32,
            lo=unsigned & 0xFFFF_FFFF,
        )
        return str(name) if name else "another session of the catalogue (it has not said who)"

    def _other_is_idle(self, batch_id: str) -> bool:
        key = advisory_key(batch_id)
        if not self._scalar("SELECT pg_try_advisory_lock(:key)", key=key):
            return False
        self._scalar("SELECT pg_advisory_unlock(:key)", key=key)
        return True


def batch_lock(settings: Settings, batch_id: str, mode: LockMode, role: str) -> BatchLock:
    """The lock of `batch_id` where this catalogue keeps its locks (not yet acquired)."""
    url = settings.database_url
    if make_url(url).get_backend_name() == "postgresql":
        return PgBatchLock(url, batch_id, mode, _who(role))
    return FileBatchLock(settings.home.resolve() / "locks", batch_id, mode, _who(role))


@contextmanager
def hold_batch(
    settings: Settings,
    batch_id: str,
    batch_dir: Path,
    *,
    mode: LockMode = LockMode.EXCLUSIVE,
    role: str = "dangan ingest",
    wait: bool = False,
) -> Iterator[BatchLock]:
    """Hold the batch's lock for the block; BatchBusyError at once when another run holds it, unless `wait`."""
    lock = batch_lock(settings, batch_id, mode, role)
    try:
        waited = False
        while not lock.try_acquire():
            holder = lock.holder()
            if not wait:
                raise BatchBusyError(
                    f"batch {batch_id} ({batch_dir}) is being worked on by another run: {holder}. Nothing was done; "
                    "run again when it has finished, or with --wait to start as soon as it has"
                )
            if not waited:
                log.warning("batch %s is being worked on by another run (%s); waiting for it", batch_id, holder)
                waited = True
            time.sleep(WAIT_POLL_SECONDS)
        if waited:
            log.warning("batch %s is free now; this run goes on", batch_id)
        yield lock
    finally:
        lock.release()
