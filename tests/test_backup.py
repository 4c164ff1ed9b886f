"""Backups: weekly full, daily incremental, and a restore that gets every byte and every record back."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from pipeline.errors import StoreError
from pipeline.preserve.backup import BackupManifest, backup_sets, choose_kind, make_backup, restore
from pipeline.store import open_store
from schemas.models import Batch


def _catalogue_with_batch(url: str, batch_id: str) -> None:
    store = open_store(url)
    try:
        store.upsert_batch(Batch(batch_id=batch_id, root="/scans/" + batch_id, created_at=datetime.now(UTC)))
    finally:
        store.close()


def _archive(home: Path) -> Path:
    root = home / "archive"
    (root / "2019").mkdir(parents=True)
    (root / "2019" / "a.pdf").write_bytes(b"%PDF-1.7 first record")
    (root / "2020").mkdir()
    (root / "2020" / "b.pdf").write_bytes(b"%PDF-1.7 second record" * 100)
    return root


def test_full_then_incremental_then_restore_sqlite(tmp_path: Path) -> None:
    home = tmp_path / "home"
    archive = _archive(home)
    url = f"sqlite:///{home / 'catalogue.sqlite'}"
    _catalogue_with_batch(url, "b1")
    target = tmp_path / "backups"

    full = make_backup(url, archive, target)
    assert full.kind == "full" and set(full.files) == {"2019/a.pdf", "2020/b.pdf"}

    (archive / "2021").mkdir()
    (archive / "2021" / "c.pdf").write_bytes(b"%PDF-1.7 third record")
    _catalogue_with_batch(url, "b2")
    incr = make_backup(url, archive, target)
    assert incr.kind == "incremental" and incr.based_on == full.name
    assert incr.files["2019/a.pdf"].held_by == full.name, "unchanged files are not copied again"
    assert incr.files["2021/c.pdf"].held_by == incr.name
    assert not (target / incr.name / "files" / "2019").exists()

    new_home = tmp_path / "restored"
    result = restore(target, new_home / "archive", new_home / "catalogue.sqlite")
    assert result.backup == incr.name and result.files == 3
    for rel in ("2019/a.pdf", "2020/b.pdf", "2021/c.pdf"):
        assert (new_home / "archive" / rel).read_bytes() == (archive / rel).read_bytes()
    store = open_store(f"sqlite:///{new_home / 'catalogue.sqlite'}")
    try:
        assert store.get_batch("b1") is not None and store.get_batch("b2") is not None
    finally:
        store.close()


def test_restore_detects_a_damaged_backup(tmp_path: Path) -> None:
    home = tmp_path / "home"
    archive = _archive(home)
    url = f"sqlite:///{home / 'catalogue.sqlite'}"
    _catalogue_with_batch(url, "b1")
    full = make_backup(url, archive, tmp_path / "backups", "full")
    (tmp_path / "backups" / full.name / "files" / "2019" / "a.pdf").write_bytes(b"rot")
    with pytest.raises(StoreError, match=r"2019/a\.pdf: SHA-256 differs"):
        restore(tmp_path / "backups", tmp_path / "r" / "archive", tmp_path / "r" / "catalogue.sqlite")


def test_weekly_full_daily_incremental() -> None:
    now = datetime(2026, 12, 3, tzinfo=UTC)

    def backup(kind: str, days_ago: int) -> BackupManifest:
        at = now - timedelta(days=days_ago)
        return BackupManifest(name=str(at), kind=kind, created_at=at, catalogue="c", files={})  # type: ignore[arg-type]

    assert choose_kind([], now) == "full"
    assert choose_kind([backup("full", 3), backup("incremental", 1)], now) == "incremental"
    assert choose_kind([backup("full", 7), backup("incremental", 1)], now) == "full"


def test_unfinished_backup_set_is_not_a_set(tmp_path: Path) -> None:
    (tmp_path / ".20261203T000000Z-full.part").mkdir()
    assert backup_sets(tmp_path) == []


@pytest.mark.postgres
def test_postgres_catalogue_round_trip(tmp_path: Path, pg_url: str) -> None:
    _catalogue_with_batch(pg_url, "pg-batch")
    archive = _archive(tmp_path / "home")
    full = make_backup(pg_url, archive, tmp_path / "backups")
    assert full.catalogue == "catalogue.pgdump"
    result = restore(tmp_path / "backups", tmp_path / "r" / "archive", tmp_path / "r" / "catalogue.pgdump")
    name = f"dangan_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        subprocess.run(
            ["pg_restore", "-h", "127.0.0.1", "-U", "postgres", "-d", name, str(result.catalogue)],
            check=True,
            capture_output=True,
        )
        with psycopg.connect(host="127.0.0.1", user="postgres", dbname=name) as conn:
            schemas = [r[0] for r in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'")]
            assert len(schemas) == 1
            batch_ids = conn.execute(
                sql.SQL("SELECT batch_id FROM {}.batches").format(sql.Identifier(schemas[0]))
            ).fetchall()
            assert batch_ids == [("pg-batch",)]
    finally:
        with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
