"""Bring a catalogue database to the newest schema with Alembic, without an alembic.ini."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from pipeline.store.engine import SQLITE_BEGIN_OPTION

log = logging.getLogger(__name__)

# The scripts ship as package data beside this package.
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Any constant works; it only has to be the same in every process migrating this database.
_PG_MIGRATION_LOCK = 0x64616E67  # "dang"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def upgrade_to_head(engine: Engine) -> None:
    """Run `alembic upgrade head` on the engine's database, serialised across processes.

    Several workers may open a fresh database at once; each takes the migration lock first,
    so one creates the schema and the others then find it at head and do nothing.
    """
    cfg = alembic_config()
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # EXCLUSIVE makes the others wait (busy timeout); SQLite's DDL is transactional.
            conn.execution_options(**{SQLITE_BEGIN_OPTION: "EXCLUSIVE"})
        with conn.begin():
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    log.debug("catalogue schema at head on %s", engine.url.render_as_string(hide_password=True))
