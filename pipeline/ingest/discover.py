"""Find the scans of a batch folder and fingerprint every original.

Names are bytes (see `pipeline.ingest.names`); nothing is followed out of the folder (see
`pipeline.ingest.walk`); every entry not taken as a scan is returned with its reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from pipeline.errors import BadInputError, ConfigError
from pipeline.ingest.manifest import read_file_list
from pipeline.ingest.names import name_bytes, name_text
from pipeline.ingest.rules import IngestRules, ingest_rules
from pipeline.ingest.safe_open import open_in_batch
from pipeline.ingest.walk import Found, Refused, walk_batch
from schemas.models import Batch, BatchManifest, FileStatus, SkippedEntry, SourceFile

log = logging.getLogger(__name__)

SCAN_SUFFIXES = frozenset({".pdf", ".tif", ".tiff", ".jpg", ".jpeg", ".png", ".jp2", ".j2k", ".jpx"})
MANIFEST_NAME = "manifest.json"
_CHUNK = 1 << 20


class FileChangedError(BadInputError):
    """The file changed while it was fingerprinted; the next run reads it again."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(root: Path, rel: bytes) -> tuple[int, str]:
    """(size, SHA-256) of a batch file, read through `open_in_batch`; refused if it changes meanwhile."""
    digest = hashlib.sha256()
    read = 0
    with open_in_batch(root, rel) as fh:
        before = os.fstat(fh.fileno())
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            read += len(chunk)
        after = os.fstat(fh.fileno())
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or read != after.st_size:
        raise FileChangedError(
            name_text(rel),
            f"changed while it was read ({before.st_size} then {after.st_size} bytes); it is read again "
            "on the next run, once the copy has finished",
        )
    return read, digest.hexdigest()


def batch_id_for(batch_dir: Path) -> str:
    # Stable across re-runs of the same folder, so a killed run resumes into the same batch. The raw
    # bytes of the path: a folder name in any encoding gives an id (valid UTF-8 gives the id it always did).
    return "b" + hashlib.sha256(os.fsencode(batch_dir.resolve())).hexdigest()[:15]


def file_id_for(batch_id: str, rel: bytes, sha256: str) -> str:
    # A changed file under the same name is a new file; the same bytes under two names are two entries
    # (the second recorded as a duplicate of the first).
    return hashlib.sha256(batch_id.encode() + b"\0" + rel + b"\0" + sha256.encode()).hexdigest()[:32]


def read_manifest(batch_dir: Path) -> BatchManifest:
    path = batch_dir / MANIFEST_NAME
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            # A link or a FIFO under this name is reported by the walk and never read.
            return BatchManifest()
    except FileNotFoundError:
        return BatchManifest()
    try:
        with open_in_batch(batch_dir.resolve(), MANIFEST_NAME.encode()) as fh:
            return BatchManifest.model_validate(json.loads(fh.read().decode("utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError, ValidationError, BadInputError) as e:
        raise ConfigError(f"{path}: not a valid batch manifest ({e}); fix or remove it") from e


def _suffix(rel: bytes) -> str:
    name = rel.rsplit(b"/", 1)[-1]
    dot = name.rfind(b".")
    return name[dot:].decode("utf-8", "replace").lower() if dot > 0 else ""


def as_duplicate(source: SourceFile, original: SourceFile) -> SourceFile:
    """`source` recorded as a duplicate of `original` (the same bytes, taken in before): never processed."""
    where = "" if original.batch_id == source.batch_id else f" in batch {original.batch_id}"
    return source.model_copy(
        update={
            "status": FileStatus.DUPLICATE,
            "duplicate_of": original.file_id,
            "error": f"duplicate of {original.rel_path}{where} (the same bytes); recorded once",
        }
    )


def discover_batch(
    batch_dir: Path, rules: IngestRules | None = None
) -> tuple[Batch, list[SourceFile], list[SkippedEntry]]:
    """Return the batch, its scan files (sorted by raw name, fingerprinted) and every entry not taken as
    a scan, with the reason (and the bad rows of any vendor's file list).

    Duplicates are found against the catalogue when the batch is planned (`as_duplicate`), so the file
    kept is the one taken in first, whichever run that was."""
    rules = rules or ingest_rules()
    if not batch_dir.is_dir():
        raise ConfigError(f"{batch_dir}: batch folder does not exist or is not a folder")
    root = batch_dir.resolve()
    batch = Batch(
        batch_id=batch_id_for(batch_dir),
        root=name_text(os.fsencode(root)),
        manifest=read_manifest(batch_dir),
        created_at=datetime.now(UTC),
    )
    files: list[SourceFile] = []
    skipped: list[SkippedEntry] = []
    lists: list[bytes] = []
    for entry in walk_batch(os.fsencode(root)):
        shown = name_text(entry.rel)
        if isinstance(entry, Refused):
            skipped.append(SkippedEntry(rel_path=shown, reason=entry.reason))
            continue
        assert isinstance(entry, Found)
        suffix = _suffix(entry.rel)
        if entry.rel == MANIFEST_NAME.encode():
            continue
        if suffix in rules.manifest.suffixes:
            lists.append(entry.rel)
            continue
        if suffix not in SCAN_SUFFIXES:
            what = f"suffix {suffix}" if suffix else "no suffix"
            skipped.append(SkippedEntry(rel_path=shown, reason=f"not a scan ({what}); not read"))
            continue
        try:
            size, digest = fingerprint(root, entry.rel)
        except BadInputError as e:
            skipped.append(SkippedEntry(rel_path=shown, reason=e.reason))
            continue
        except OSError as e:
            skipped.append(SkippedEntry(rel_path=shown, reason=f"cannot be read ({e.strerror}); tried again next run"))
            continue
        files.append(
            SourceFile(
                file_id=file_id_for(batch.batch_id, entry.rel, digest),
                batch_id=batch.batch_id,
                rel_path=shown,
                size=size,
                sha256=digest,
            )
        )
    scans = {name_bytes(f.rel_path) for f in files}
    for rel in lists:
        skipped.extend(read_file_list(root, rel, scans, rules.manifest))
    log.info("discovered batch %s: %d scan files, %d entries not taken", batch.batch_id, len(files), len(skipped))
    return batch, files, skipped
