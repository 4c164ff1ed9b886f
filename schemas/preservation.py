"""Preservation records: fixity checks, appraisal decisions, destruction lists (pure pydantic)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FixityOutcome(StrEnum):
    OK = "ok"
    CHANGED = "changed"
    MISSING = "missing"
    UNREADABLE = "unreadable"


class FixityCheck(_Model):
    at: datetime
    kind: str = Field(description="original (a source scan) or pdfa (an archive file)")
    subject: str = Field(description="file_id of a source scan, record_id of an archive file")
    path: str
    expected: str
    actual: str | None = None
    outcome: FixityOutcome
    agent: str


class AppraisalDecision(StrEnum):
    DESTROY = "destroy"
    KEEP = "keep"


class Appraisal(_Model):
    record_id: str
    decision: AppraisalDecision
    reason: str = Field(min_length=1)
    keep_until: date | None = Field(default=None, description="with keep: the new date after which it may go")
    decided_by: str
    decided_at: datetime


class DestructionItem(_Model):
    """What the 销毁清册 lists of one record, frozen when the list is made."""

    record_id: str
    archive_no: str
    title: str
    form_date: date | None
    retention: str
    destroy_after: date
    person_id: str | None
    pdfa_path: str | None
    sha256: str | None
    reason: str


class DestructionList(_Model):
    list_id: str
    created_by: str
    created_at: datetime
    status: str = Field(description="open, then executed")
    executed_at: datetime | None = None
    items: list[DestructionItem]
    signers: list[str] = []
