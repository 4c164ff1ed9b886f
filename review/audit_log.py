"""Every read and change a person makes goes into the catalogue's hash-chained audit trail."""

from __future__ import annotations

from review.deps import now
from review.state import AppState
from schemas.access import Viewer
from schemas.models import AuditEvent


def audit(
    state: AppState,
    viewer: Viewer | None,
    action: str,
    *,
    actor: str | None = None,
    client: str | None = None,
    record_id: str | None = None,
    doc_id: str | None = None,
    field: str | None = None,
    old: str | None = None,
    new: str | None = None,
    why: str | None = None,
) -> None:
    state.store.record_audit(
        AuditEvent(
            at=now(),
            actor=actor or (viewer.username if viewer else "anonymous"),
            action=action,
            record_id=record_id,
            doc_id=doc_id,
            field=field,
            old=old,
            new=new,
            why=why,
            client=client or (viewer.client if viewer else None),
        )
    )
