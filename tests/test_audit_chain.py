"""The audit trail is a hash chain: removing or editing one entry is detected and the entry named."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from pipeline.store import CatalogueStore, open_store
from pipeline.store.engine import transaction
from pipeline.store.tables import AuditEventRow
from schemas.models import AuditEvent

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    return str(request.getfixturevalue("pg_url"))


def _fill(store: CatalogueStore, n: int = 6) -> None:
    for i in range(n):
        store.record_audit(
            AuditEvent(
                at=T0 + timedelta(seconds=i), actor=f"user{i % 2}", action="view", record_id=f"r{i}", client="10.0.0.7"
            )
        )


def _tamper(store: CatalogueStore, stmt: object) -> None:
    with transaction(store.engine, "tamper", write=True) as s:
        s.execute(stmt)  # type: ignore[call-overload]


def test_an_untouched_chain_verifies_and_a_replayed_event_is_not_chained_twice(db_url: str) -> None:
    with open_store(db_url) as store:
        _fill(store)
        _fill(store)  # a retried task replays the same events
        report = store.verify_audit()
        assert report.intact and report.entries == 6


def test_a_removed_entry_is_named(db_url: str) -> None:
    with open_store(db_url) as store:
        _fill(store)
        _tamper(store, delete(AuditEventRow).where(AuditEventRow.record_id == "r3"))
        report = store.verify_audit()
        assert not report.intact and len(report.breaks) == 1
        assert report.breaks[0].problem.startswith("entry #4 removed")


def test_an_edited_entry_is_named_and_so_is_one_edited_and_re_hashed(db_url: str) -> None:
    with open_store(db_url) as store:
        _fill(store)
        _tamper(store, update(AuditEventRow).where(AuditEventRow.record_id == "r2").values(actor="someone-else"))
        report = store.verify_audit()
        assert [b.entry_id for b in report.breaks] == [3]
        assert "#3 (" in report.breaks[0].problem and "edited" in report.breaks[0].problem
        # The forger also rewrites the entry's own hash: the next entry's link still names it.
        _tamper(store, update(AuditEventRow).where(AuditEventRow.record_id == "r2").values(entry_hash="f" * 64))
        report = store.verify_audit()
        problems = " | ".join(b.problem for b in report.breaks)
        assert "entry #3 edited and re-hashed" in problems


def test_dangan_audit_verify_exits_non_zero_naming_the_entry(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    with open_store(url) as store:
        _fill(store)
    env = {**os.environ, "DANGAN_DB_URL": url, "DANGAN_HOME": str(tmp_path)}
    cmd = [sys.executable, "-m", "pipeline.cli", "audit", "verify"]
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "intact: 6 entries" in ok.stdout
    with open_store(url) as store:
        _tamper(store, delete(AuditEventRow).where(AuditEventRow.record_id == "r0"))
    broken = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert broken.returncode == 5, broken.stderr
    assert "entry #1 removed" in broken.stdout.replace("\n", " ")
