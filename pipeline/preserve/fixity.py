"""`dangan fixity`: re-verify the SHA-256 of every original scan and every PDF/A, now or a share a night.

Each check is recorded (a PREMIS fixity event in the catalogue); a changed, missing or unreadable file
is reported loudly — logged as an error, listed in the report, and the command exits non-zero — since
silent corruption is what a preservation system exists to catch. With a share below 1 the files checked
longest ago (or never) go first, so a nightly share covers the whole archive in turn.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from pipeline.deliver.provenance import dangan_agent
from pipeline.errors import ArchiveError
from pipeline.ingest.names import name_bytes
from pipeline.store import CatalogueStore
from pipeline.store.preservation import PreservationStore
from schemas.preservation import FixityCheck, FixityOutcome

log = logging.getLogger(__name__)
_CHUNK = 1 << 20


class FixitySubject(BaseModel):
    kind: str
    subject: str
    path: str
    expected: str


class FixityReport(BaseModel):
    total: int
    checked: int
    ok: int
    problems: list[FixityCheck]

    @property
    def passed(self) -> bool:
        return not self.problems


def subjects(catalogue: CatalogueStore, preservation: PreservationStore) -> list[FixitySubject]:
    originals = [
        FixitySubject(kind="original", subject=fid, path=path, expected=sha)
        for fid, path, sha in preservation.originals()
    ]
    archive = [
        FixitySubject(kind="pdfa", subject=r.record_id, path=r.pdfa_path, expected=r.sha256)
        for r in catalogue.records()
        if r.pdfa_path and r.sha256
    ]
    return originals + archive


def choose(all_subjects: list[FixitySubject], last: dict[str, datetime], share: float) -> list[FixitySubject]:
    """The `share` of subjects checked longest ago; never-checked ones first."""
    if share >= 1.0:
        return all_subjects
    n = math.ceil(len(all_subjects) * share)
    never = datetime.min.replace(tzinfo=UTC)
    return sorted(all_subjects, key=lambda s: (last.get(s.subject, never), s.subject))[:n]


def check(subject: FixitySubject, at: datetime, agent: str) -> FixityCheck:
    # An original's path holds its name in the escaped text form of raw bytes (pipeline.ingest.names).
    path = Path(os.fsdecode(name_bytes(subject.path))) if subject.kind == "original" else Path(subject.path)
    actual: str | None = None
    try:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
        actual = digest.hexdigest()
        outcome = FixityOutcome.OK if actual == subject.expected else FixityOutcome.CHANGED
    except FileNotFoundError:
        outcome = FixityOutcome.MISSING
    except OSError as e:
        log.error("fixity: %s cannot be read: %s", subject.path, e)
        outcome = FixityOutcome.UNREADABLE
    return FixityCheck(
        at=at,
        kind=subject.kind,
        subject=subject.subject,
        path=subject.path,
        expected=subject.expected,
        actual=actual,
        outcome=outcome,
        agent=agent,
    )


def run_fixity(catalogue: CatalogueStore, share: float = 1.0) -> FixityReport:
    """Check the chosen share of files, record every check, and return what was found."""
    preservation = PreservationStore(catalogue.engine)
    every = subjects(catalogue, preservation)
    chosen = choose(every, preservation.last_checked(), share)
    agent = dangan_agent().identifier
    checks = [check(s, datetime.now(UTC), agent) for s in chosen]
    preservation.record_fixity(checks)
    problems = [c for c in checks if c.outcome is not FixityOutcome.OK]
    for p in problems:
        log.error("fixity: %s %s is %s", p.kind, p.path, p.outcome.value)
    return FixityReport(total=len(every), checked=len(checks), ok=len(checks) - len(problems), problems=problems)


def nightly_fixity(share: float) -> dict[str, int]:
    """The nightly task: check a share with the configured catalogue; raise when anything failed."""
    from pipeline.settings import get_settings
    from pipeline.store import open_store

    store = open_store(get_settings().database_url)
    try:
        report = run_fixity(store, share)
    finally:
        store.close()
    if report.problems:
        names = ", ".join(f"{p.path} ({p.outcome.value})" for p in report.problems[:20])
        raise ArchiveError(f"fixity: {len(report.problems)} file(s) failed their check: {names}")
    return {"total": report.total, "checked": report.checked, "ok": report.ok}
