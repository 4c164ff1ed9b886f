"""Shared pytest fixtures. Each block below belongs to one area; add yours as a new block."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

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
