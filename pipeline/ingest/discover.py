"""Find the scans of a batch folder and fingerprint every original."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from pipeline.errors import ConfigError
from schemas.models import Batch, BatchManifest, SourceFile

log = logging.getLogger(__name__)

SCAN_SUFFIXES = frozenset({".pdf", ".tif", ".tiff", ".jpg", ".jpeg", ".png"})
MANIFEST_NAME = "manifest.json"
_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def batch_id_for(batch_dir: Path) -> str:
    # Stable across re-runs of the same folder, so a killed run resumes into the same batch.
    return "b" + hashlib.sha256(str(batch_dir.resolve()).encode()).hexdigest()[:15]


def file_id_for(batch_id: str, rel_path: str, sha256: str) -> str:
    # A changed file under the same name is a new file; the same bytes under two names are two files.
    return hashlib.sha256(f"{batch_id}\0{rel_path}\0{sha256}".encode()).hexdigest()[:32]


def read_manifest(batch_dir: Path) -> BatchManifest:
    path = batch_dir / MANIFEST_NAME
    if not path.exists():
        return BatchManifest()
    try:
        return BatchManifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError, ValidationError) as e:
        raise ConfigError(f"{path}: not a valid batch manifest ({e}); fix or remove it") from e


def discover_batch(batch_dir: Path) -> tuple[Batch, list[SourceFile], list[str]]:
    """Return the batch, its scan files (sorted, fingerprinted) and the relative paths skipped.

    Files whose suffix is not a scan type (ground truth, Thumbs.db, notes) are skipped and
    reported, not quarantined: they were never meant as scans.
    """
    if not batch_dir.is_dir():
        raise ConfigError(f"{batch_dir}: batch folder does not exist or is not a folder")
    batch = Batch(
        batch_id=batch_id_for(batch_dir),
        root=str(batch_dir.resolve()),
        manifest=read_manifest(batch_dir),
        created_at=datetime.now(UTC),
    )
    files: list[SourceFile] = []
    skipped: list[str] = []
    for path in sorted(p for p in batch_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(batch_dir).as_posix()
        if any(part.startswith(".") for part in Path(rel).parts):
            continue
        if path.suffix.lower() not in SCAN_SUFFIXES:
            if rel != MANIFEST_NAME:
                skipped.append(rel)
            continue
        digest = sha256_of(path)
        files.append(
            SourceFile(
                file_id=file_id_for(batch.batch_id, rel, digest),
                batch_id=batch.batch_id,
                rel_path=rel,
                size=path.stat().st_size,
                sha256=digest,
            )
        )
    log.info("discovered batch %s: %d scan files, %d skipped", batch.batch_id, len(files), len(skipped))
    return batch, files, skipped
