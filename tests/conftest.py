"""Shared pytest fixtures. Each block below belongs to one area; add yours as a new block."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import sql

# ---- PostgreSQL (catalogue store) -----------------------------------------------------------
# One throw-away database per test session, one fresh schema per test. CI starts the server;
# when it is not reachable the tests fail (not skip), so a broken CI setup cannot hide.

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
PG_SERVER_URL = f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/"


def _pg_connect(dbname: str) -> psycopg.Connection:
    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """SQLAlchemy URL of a fresh, uniquely named PostgreSQL database, dropped at session end."""
    name = f"dangan_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = _pg_connect("postgres")
    except psycopg.OperationalError as e:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_SERVER_URL} ({e}). Start it (scripts/ensure-services.sh) "
            "or deselect these tests with -m 'not postgres'.",
            pytrace=False,
        )
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield f"{PG_SERVER_URL}{name}"
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def pg_url(pg_database_url: str) -> Iterator[str]:
    """A URL whose connections see only a new, empty schema (search_path), dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    dbname = pg_database_url.rsplit("/", 1)[1]
    with _pg_connect(dbname) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield f"{pg_database_url}?options=-csearch_path%3D{schema}"
    finally:
        with _pg_connect(dbname) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


# ---- end PostgreSQL (catalogue store) -------------------------------------------------------


# ---- Airflow real stack (api-server, scheduler, dag-processor, Celery worker) -----------------
# Started once per test session, only when a test asks for it, with its own databases, Celery queue,
# ports and state folder (concurrent sessions never collide), and always torn down. The catalogue is
# reached through a loopback proxy the tests can cut. Short heartbeat settings keep fault tests short.

REAL_STACK_OVERRIDES = {
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
    "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "2",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
    "DANGAN_RETRY_DELAY_SECONDS": "3",
    "DANGAN_NIGHTLY__TIMEZONE": "Asia/Shanghai",
}


@pytest.fixture(scope="session")
def catalogue_proxy() -> Iterator[Any]:
    from tests.realstack import TcpProxy

    proxy = TcpProxy(PG_HOST, PG_PORT)
    yield proxy
    proxy.close()


@pytest.fixture(scope="session")
def airflow_stack(tmp_path_factory: pytest.TempPathFactory, catalogue_proxy: Any) -> Iterator[Any]:
    """A running local stack (one Celery worker, 2 slots, RapidOCR) as `pipeline.stack.LocalStack`."""
    from pipeline.stack import LocalStack, StackConfig

    root = tmp_path_factory.mktemp("stack")
    name = f"t{uuid.uuid4().hex[:10]}"
    # Two nights the nightly DAG has missed: the real-stack test unpauses it and expects both caught up.
    zone = ZoneInfo(REAL_STACK_OVERRIDES["DANGAN_NIGHTLY__TIMEZONE"])
    first_night = (datetime.now(zone).date() - timedelta(days=2)).isoformat()
    catalogue = f"postgresql+psycopg://{PG_USER}@127.0.0.1:{catalogue_proxy.port}/{name}_catalogue"
    cfg = StackConfig(
        name=name,
        state_dir=root / "state",
        dangan_home=root / "home",
        drop_dir=root / "drop",
        workers=1,
        worker_concurrency=2,
        ocr_engine="rapidocr",
        pg_host=PG_HOST,
        pg_port=PG_PORT,
        pg_user=PG_USER,
        overrides={**REAL_STACK_OVERRIDES, "DANGAN_DB_URL": catalogue, "DANGAN_NIGHTLY__FIRST_NIGHT": first_night},
    )
    stack = LocalStack(cfg)
    # Should this session be killed before its teardown runs, the watchdog takes the stack down.
    watchdog = subprocess.Popen(
        [sys.executable, "-m", "pipeline.stack", "watch", "--owner", str(os.getpid()),
         "--state-dir", str(cfg.state_dir), "--drop-databases"],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        stack.up()
        stack.api().set_paused("dangan_backlog", False)
        yield stack
    finally:
        stack.down(drop_databases=True, grace=5.0)
        watchdog.terminate()
        watchdog.wait(timeout=30)


# ---- end Airflow real stack ------------------------------------------------------------------
