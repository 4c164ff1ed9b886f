"""PDF/A files that no record points at any more: removed from the archive, with an audit event."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from pipeline.store import CatalogueStore
from schemas.models import ArchiveRecord, AuditEvent

log = logging.getLogger(__name__)


def remove_stale_pdfa(store: CatalogueStore, archive_root: Path, record: ArchiveRecord) -> None:
    """The PDF/A of a document its file no longer yields (re-separated) would lie in the archive with no
    record pointing at it; it goes, and the audit trail says which file and why. A path outside the archive
    (a hand-edited catalogue) is never deleted."""
    if not record.pdfa_path:
        return
    path = Path(record.pdfa_path)
    archive = archive_root.resolve()
    if not path.resolve().is_relative_to(archive):
        log.warning("not removing %s of record %s: it lies outside the archive %s", path, record.record_id, archive)
        return
    path.unlink(missing_ok=True)
    store.record_audit(
        AuditEvent(
            at=datetime.now(UTC),
            actor="pipeline",
            action="pdfa_removed",
            record_id=record.record_id,
            doc_id=record.doc_id,
            old=record.file_name or path.name,
            why="its document is no longer produced by the source file (separated differently on re-processing)",
        )
    )
    log.info("removed stale PDF/A %s of record %s", path.name, record.record_id)
