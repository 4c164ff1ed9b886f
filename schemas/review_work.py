"""The review application's work items: a lease on a QC task, and a reviewer's word on one field."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Lease(_Model):
    """A QC task held by one reviewer until `expires_at`, unless kept alive by a heartbeat."""

    task_id: str
    doc_id: str
    reviewer: str
    token: str = Field(description="new on every claim: a save from an earlier claim carries another")
    expires_at: datetime


class CorrectionKind(StrEnum):
    CONFIRMED = "confirmed"
    CORRECTED = "corrected"


class Correction(_Model):
    """One field's review, written as the archive writes its own correction records
    ("2023年7月，姓名由'张三'改为'张四'，依据户口本复印件")."""

    at: datetime
    actor: str
    task_id: str | None = None
    batch_id: str
    doc_id: str
    form_id: str | None = None
    position: int = Field(ge=0, description="the field's place in the document (a key may occur twice)")
    key: str
    kind: CorrectionKind
    old: str | None = None
    new: str | None = None
    reason: str | None = None
    evidence: str | None = None
    machine_confidence: float = 0.0
    machine_status: str
    features: dict[str, float | str] = {}

    def as_archive_note(self, label: str) -> str:
        when = f"{self.at.year}年{self.at.month}月"
        if self.kind is CorrectionKind.CONFIRMED:
            return f"{when}，{label}'{self.new or ''}'经核对无误"
        basis = f"，依据{self.evidence}" if self.evidence else ""
        why = f"（{self.reason}）" if self.reason else ""
        return f"{when}，{label}由'{self.old or ''}'改为'{self.new or ''}'{basis}{why}"
