"""Preservation state in the catalogue: fixity checks, appraisal decisions, destruction lists and signatures.

Signing and executing a destruction list are conditional writes: two archivists signing at once, or a
list executed twice, cannot produce a second execution; every change also lands in the audit chain.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from pipeline.errors import StoreConflictError, StoreError
from pipeline.store import audit_chain
from pipeline.store.engine import transaction
from pipeline.store.preservation_tables import (
    AppraisalRow,
    DestructionListRow,
    DestructionSignatureRow,
    FixityCheckRow,
)
from pipeline.store.tables import BatchRow, SourceFileRow
from schemas.models import AuditEvent
from schemas.preservation import Appraisal, DestructionItem, DestructionList, FixityCheck


class PreservationStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    # -- fixity ---------------------------------------------------------------------------

    def record_fixity(self, checks: Iterable[FixityCheck]) -> None:
        with transaction(self._engine, "record fixity checks", write=True) as s:
            s.add_all(FixityCheckRow(**c.model_dump()) for c in checks)

    def originals(self) -> list[tuple[str, str, str]]:
        """(file_id, path, sha256) of every source scan the catalogue holds, path as the batch saw it."""
        with transaction(self._engine, "list source files", write=False) as s:
            stmt = (
                select(SourceFileRow.file_id, BatchRow.root, SourceFileRow.rel_path, SourceFileRow.sha256)
                .join(BatchRow, BatchRow.batch_id == SourceFileRow.batch_id)
                .order_by(SourceFileRow.batch_id, SourceFileRow.rel_path)
            )
            return [(fid, f"{root.rstrip('/')}/{rel}", sha) for fid, root, rel, sha in s.execute(stmt)]

    def last_checked(self) -> dict[str, datetime]:
        """When each subject was last checked (never-checked subjects are absent)."""
        with transaction(self._engine, "read fixity history", write=False) as s:
            stmt = select(FixityCheckRow.subject, func.max(FixityCheckRow.at)).group_by(FixityCheckRow.subject)
            return {subject: at for subject, at in s.execute(stmt)}

    def fixity_checks(self, subject: str | None = None) -> list[FixityCheck]:
        with transaction(self._engine, "read fixity history", write=False) as s:
            stmt = select(FixityCheckRow).order_by(FixityCheckRow.at, FixityCheckRow.id)
            if subject is not None:
                stmt = stmt.where(FixityCheckRow.subject == subject)
            return [
                FixityCheck.model_validate({k: getattr(r, k) for k in FixityCheck.model_fields})
                for r in s.scalars(stmt)
            ]

    # -- appraisal ------------------------------------------------------------------------

    def decide(self, appraisal: Appraisal, client: str | None = None) -> None:
        with transaction(self._engine, "record an appraisal", write=True) as s:
            row = s.get(AppraisalRow, appraisal.record_id)
            values = appraisal.model_dump()
            if row is None:
                s.add(AppraisalRow(**values))
            else:
                for k, v in values.items():
                    setattr(row, k, v)
            audit_chain.append(
                s,
                self._dialect,
                AuditEvent(
                    at=appraisal.decided_at,
                    actor=appraisal.decided_by,
                    action=f"appraise_{appraisal.decision.value}",
                    record_id=appraisal.record_id,
                    new=appraisal.keep_until.isoformat() if appraisal.keep_until else None,
                    why=appraisal.reason,
                    client=client,
                ),
            )

    def appraisals(self) -> dict[str, Appraisal]:
        with transaction(self._engine, "read appraisals", write=False) as s:
            return {
                r.record_id: Appraisal.model_validate({k: getattr(r, k) for k in Appraisal.model_fields})
                for r in s.scalars(select(AppraisalRow))
            }

    # -- destruction ----------------------------------------------------------------------

    def create_list(self, dl: DestructionList) -> None:
        with transaction(self._engine, "create a destruction list", write=True) as s:
            s.add(
                DestructionListRow(
                    list_id=dl.list_id,
                    created_by=dl.created_by,
                    created_at=dl.created_at,
                    status=dl.status,
                    executed_at=None,
                    items=[i.model_dump(mode="json") for i in dl.items],
                )
            )
            audit_chain.append(
                s,
                self._dialect,
                AuditEvent(
                    at=dl.created_at,
                    actor=dl.created_by,
                    action="destruction_list_created",
                    why=f"销毁清册 {dl.list_id}: {len(dl.items)} 件",
                ),
            )

    def get_list(self, list_id: str) -> DestructionList | None:
        with transaction(self._engine, "read a destruction list", write=False) as s:
            row = s.get(DestructionListRow, list_id)
            if row is None:
                return None
            signers = s.scalars(
                select(DestructionSignatureRow.signer)
                .where(DestructionSignatureRow.list_id == list_id)
                .order_by(DestructionSignatureRow.signed_at)
            )
            return DestructionList(
                list_id=row.list_id,
                created_by=row.created_by,
                created_at=row.created_at,
                status=row.status,
                executed_at=row.executed_at,
                items=[DestructionItem.model_validate(i) for i in row.items],
                signers=list(signers),
            )

    def sign(self, list_id: str, signer: str, at: datetime, client: str | None = None) -> None:
        try:
            with transaction(self._engine, "sign a destruction list", write=True) as s:
                row = s.get(DestructionListRow, list_id)
                if row is None:
                    raise StoreConflictError(f"destruction list {list_id} does not exist")
                if row.status != "open":
                    raise StoreConflictError(f"destruction list {list_id} is {row.status}; it cannot be signed")
                s.add(DestructionSignatureRow(list_id=list_id, signer=signer, signed_at=at))
                s.flush()
                audit_chain.append(
                    s,
                    self._dialect,
                    AuditEvent(at=at, actor=signer, action="destruction_list_signed", why=list_id, client=client),
                )
        except StoreError as e:
            if isinstance(e.__cause__, IntegrityError):
                raise StoreConflictError(f"{signer} has signed destruction list {list_id} already") from e
            raise

    def mark_executed(self, list_id: str, actor: str, at: datetime, removed: list[str]) -> None:
        """Close the list (once): a second execution, even a concurrent one, is refused."""
        with transaction(self._engine, "execute a destruction list", write=True) as s:
            result = s.execute(
                update(DestructionListRow)
                .where(DestructionListRow.list_id == list_id, DestructionListRow.status == "open")
                .values(status="executed", executed_at=at)
                .execution_options(synchronize_session=False)
            )
            if cast(Any, result).rowcount != 1:
                raise StoreConflictError(f"destruction list {list_id} is not open; it was executed already")
            for record_id in removed:
                audit_chain.append(
                    s,
                    self._dialect,
                    AuditEvent(at=at, actor=actor, action="destroyed", record_id=record_id, why=list_id),
                )
