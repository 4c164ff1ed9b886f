"""`dangan backup` and `dangan restore`: daily incremental and weekly full copies, as seed 002 asks.

A backup set is a folder `<target>/<UTC stamp>-<full|incremental>/` holding
- `catalogue.sqlite` (SQLite's online backup API: a consistent copy while the pipeline runs) or
  `catalogue.pgdump` (`pg_dump -Fc`), always whole: the catalogue is small beside the files;
- `files/…`: the archive files (PDF/A) that are new or changed since the previous set (all of them in a full);
- `manifest.json`: every archive file that existed at backup time with its size and SHA-256, and the set that
  holds its bytes, so a restore needs the latest full and the incrementals after it, and checks every byte.
The newest set is written under a hidden name and renamed when complete, so a killed backup leaves no set
that looks finished.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.engine import make_url

from pipeline.errors import ConfigError, MissingDependencyError, StoreError

log = logging.getLogger(__name__)

Kind = Literal["full", "incremental"]
BackupKind = Kind | Literal["auto"]
FULL_EVERY = timedelta(days=7)
MANIFEST = "manifest.json"
_CHUNK = 1 << 20


class BackedUpFile(BaseModel):
    size: int
    sha256: str
    mtime_ns: int
    held_by: str = Field(description="the backup set whose files/ folder holds these bytes")


class BackupManifest(BaseModel):
    name: str
    kind: Kind
    created_at: datetime
    catalogue: str = Field(description="file name of the catalogue copy inside the set")
    files: dict[str, BackedUpFile] = Field(description="archive-relative path → file")
    based_on: str | None = None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def backup_sets(target: Path) -> list[BackupManifest]:
    """Complete backup sets under `target`, oldest first."""
    sets = []
    for folder in sorted(target.iterdir()) if target.is_dir() else []:
        manifest = folder / MANIFEST
        if not folder.name.startswith(".") and manifest.is_file():
            sets.append(BackupManifest.model_validate_json(manifest.read_text(encoding="utf-8")))
    return sorted(sets, key=lambda m: m.created_at)


def choose_kind(sets: list[BackupManifest], now: datetime) -> Kind:
    """Weekly full: a full when there is none in the last seven days, else an incremental."""
    fulls = [s for s in sets if s.kind == "full"]
    return "incremental" if fulls and now - fulls[-1].created_at < FULL_EVERY else "full"


def _copy_catalogue(db_url: str, dest_dir: Path) -> str:
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ConfigError("an in-memory catalogue cannot be backed up")
        out = dest_dir / "catalogue.sqlite"
        src = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
        dst = sqlite3.connect(out)
        try:
            with dst:
                src.backup(dst)
        finally:
            src.close()
            dst.close()
        return out.name
    if url.get_backend_name() == "postgresql":
        if shutil.which("pg_dump") is None:
            raise MissingDependencyError(
                "pg_dump is needed to back up a PostgreSQL catalogue: apt-get install postgresql-client"
            )
        out = dest_dir / "catalogue.pgdump"
        env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
        cmd = [
            "pg_dump",
            "-Fc",
            "-f",
            str(out),
            "-h",
            url.host or "localhost",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            url.database or "postgres",
        ]
        search_path = _search_path(db_url)
        if search_path:
            cmd += ["-n", search_path]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise StoreError(f"pg_dump failed: {proc.stderr.strip()[-400:]}")
        return out.name
    raise ConfigError(f"cannot back up a {url.get_backend_name()} catalogue")


def _search_path(db_url: str) -> str | None:
    """The schema a `?options=-csearch_path=…` URL confines the catalogue to (tests and shared servers)."""
    options = make_url(db_url).query.get("options")
    text = options if isinstance(options, str) else (options[0] if options else "")
    for part in text.split():
        if part.startswith("-csearch_path="):
            return part.split("=", 1)[1]
    return None


def make_backup(db_url: str, archive_root: Path, target: Path, kind: BackupKind = "auto") -> BackupManifest:
    """Write one backup set of the catalogue and the archive files under `target`."""
    target.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    sets = backup_sets(target)
    chosen: Kind = choose_kind(sets, now) if kind == "auto" else kind
    if chosen == "incremental" and not any(s.kind == "full" for s in sets):
        chosen = "full"
    previous = sets[-1] if sets and chosen == "incremental" else None
    name = f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{chosen}"
    work = target / f".{name}.part"
    shutil.rmtree(work, ignore_errors=True)
    (work / "files").mkdir(parents=True)
    catalogue = _copy_catalogue(db_url, work)
    files: dict[str, BackedUpFile] = {}
    copied = 0
    for path in sorted(p for p in archive_root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        rel = path.relative_to(archive_root).as_posix()
        st = path.stat()
        old = previous.files.get(rel) if previous else None
        if old is not None and old.size == st.st_size and old.mtime_ns == st.st_mtime_ns:
            files[rel] = old
            continue
        dest = work / "files" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
        files[rel] = BackedUpFile(size=st.st_size, sha256=_sha256(dest), mtime_ns=st.st_mtime_ns, held_by=name)
        copied += 1
    manifest = BackupManifest(
        name=name,
        kind=chosen,
        created_at=now,
        catalogue=catalogue,
        files=files,
        based_on=previous.name if previous else None,
    )
    (work / MANIFEST).write_text(manifest.model_dump_json(indent=1), encoding="utf-8")
    os.replace(work, target / name)
    log.info("backup %s: catalogue and %d of %d archive files copied", name, copied, len(files))
    return manifest


class RestoreResult(BaseModel):
    backup: str
    files: int
    catalogue: Path


def restore(target: Path, archive_root: Path, catalogue_out: Path, name: str | None = None) -> RestoreResult:
    """Restore the archive files and the catalogue copy of set `name` (default the newest) and verify
    every file's SHA-256. The catalogue copy is written to `catalogue_out` (a SQLite file, or the
    pg_dump archive to load with pg_restore)."""
    sets = {s.name: s for s in backup_sets(target)}
    if not sets:
        raise ConfigError(f"{target}: no complete backup set")
    chosen = sets[name] if name else list(sets.values())[-1]
    if name and name not in sets:
        raise ConfigError(f"{target}: no backup set {name}")
    bad: list[str] = []
    for rel, f in sorted(chosen.files.items()):
        src = target / f.held_by / "files" / rel
        dest = archive_root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not src.is_file():
            bad.append(f"{rel}: missing from set {f.held_by}")
            continue
        shutil.copy2(src, dest)
        if _sha256(dest) != f.sha256:
            bad.append(f"{rel}: SHA-256 differs from the backup manifest")
    catalogue_out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(target / chosen.name / chosen.catalogue, catalogue_out)
    if bad:
        raise StoreError(f"restore of {chosen.name} is incomplete:\n  " + "\n  ".join(bad))
    return RestoreResult(backup=chosen.name, files=len(chosen.files), catalogue=catalogue_out)
