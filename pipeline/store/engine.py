"""Engines for the two supported databases, and URL masking for messages."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from pipeline.errors import StoreError

# Several worker processes write to one SQLite file; a writer waits this long for the lock.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option naming how a SQLite transaction begins (DEFERRED, IMMEDIATE, EXCLUSIVE).
SQLITE_BEGIN_OPTION = "dangan_sqlite_begin"


def mask_url(url: str | URL) -> str:
    """The URL with any password replaced by ***, safe for messages and logs."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        # Unparsable, so the password cannot be told apart: hide everything before the last @.
        return re.sub(r"^([a-z0-9+]*://)?.*@", lambda m: f"{m.group(1) or ''}***@", url)


def error_reason(e: BaseException) -> str:
    """The driver's own message, without SQLAlchemy's statement dump."""
    orig = getattr(e, "orig", None)
    return str(orig if orig is not None else e).strip().splitlines()[0]


@contextmanager
def transaction(engine: Engine, what: str, write: bool) -> Iterator[Session]:
    """One ORM session in one transaction; a write on SQLite takes the write lock at BEGIN.

    Database errors become StoreError naming `what` failed, without the statement's parameters.
    """
    try:
        with engine.connect() as conn:
            if write and engine.dialect.name == "sqlite":
                conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                yield session
    except SQLAlchemyError as e:
        raise StoreError(f"catalogue {mask_url(engine.url)}: {what} failed: {error_reason(e)}") from e


def is_memory_sqlite(url: URL) -> bool:
    db = url.database
    return not db or db == ":memory:" or url.query.get("mode") == "memory"


def create_store_engine(url: str) -> Engine:
    """An engine for a sqlite:/// file (or memory) or a postgresql+psycopg:// server."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as e:
        raise StoreError(
            f"cannot parse database URL {mask_url(url)!r}: {e}; "
            "use sqlite:///path/catalogue.sqlite or postgresql+psycopg://user@host/db"
        ) from e
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            return _sqlite_engine(parsed)
        if backend == "postgresql":
            return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    except (SQLAlchemyError, ImportError, OSError) as e:
        raise StoreError(f"cannot open database {mask_url(parsed)}: {e}") from e
    raise StoreError(
        f"unsupported database {backend!r} in {mask_url(parsed)}; "
        "use sqlite:///path/catalogue.sqlite or postgresql+psycopg://user@host/db"
    )


def _sqlite_engine(url: URL) -> Engine:
    kwargs: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}}
    if is_memory_sqlite(url):
        # One shared connection, or each pooled connection would see its own empty database.
        kwargs["poolclass"] = StaticPool
    else:
        assert url.database is not None
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # Parameters stay out of error messages: they can hold citizens' ID numbers.
    engine = create_engine(url, hide_parameters=True, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    # pysqlite's own transaction handling never BEGINs before a SELECT, so a read-then-write
    # transaction could not be made IMMEDIATE; SQLAlchemy emits BEGIN itself instead
    # (the recipe in SQLAlchemy's SQLite dialect documentation).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        # WAL lets readers proceed while one writer commits; NORMAL sync is durable under WAL.
        _set_wal(cur)
        cur.execute("PRAGMA synchronous = NORMAL")
    finally:
        cur.close()


def _set_wal(cur: Any) -> None:
    """Switch a file database to WAL. SQLite answers "database is locked" at once, without its busy
    handler, when several connections make the switch on a new file together, so it is tried again;
    a file already in WAL (every later open) costs one query."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    delay = 0.01
    while True:
        try:
            mode = cur.execute("PRAGMA journal_mode").fetchone()
            if mode is None or str(mode[0]).lower() in ("wal", "memory"):
                return
            cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def _sqlite_on_begin(conn: Connection) -> None:
    # Write transactions take the write lock up front (IMMEDIATE): a deferred transaction
    # that reads first and writes later fails with "database is locked" instead of waiting.
    mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")
