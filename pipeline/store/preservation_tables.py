"""Tables of preservation work: fixity checks over time, appraisal decisions, destruction lists and
their signatures. A destruction list and its signatures are kept for ever (DA/T 36: 销毁清册永久保存)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store.tables import ID_LEN, SHA_LEN, AutoId, Base

KIND_LEN = 16


class FixityCheckRow(Base):
    __tablename__ = "fixity_checks"
    __table_args__ = (Index("ix_fixity_checks_subject_at", "subject", "at"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(KIND_LEN))
    subject: Mapped[str] = mapped_column(String(ID_LEN))
    path: Mapped[str] = mapped_column(Text)
    expected: Mapped[str] = mapped_column(String(SHA_LEN))
    actual: Mapped[str | None] = mapped_column(String(SHA_LEN))
    outcome: Mapped[str] = mapped_column(String(KIND_LEN), index=True)
    agent: Mapped[str] = mapped_column(String(ID_LEN))


class AppraisalRow(Base):
    __tablename__ = "appraisals"

    record_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    decision: Mapped[str] = mapped_column(String(KIND_LEN))
    reason: Mapped[str] = mapped_column(Text)
    keep_until: Mapped[date | None]
    decided_by: Mapped[str] = mapped_column(String(ID_LEN))
    decided_at: Mapped[datetime]


class DestructionListRow(Base):
    __tablename__ = "destruction_lists"

    list_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    created_by: Mapped[str] = mapped_column(String(ID_LEN))
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(KIND_LEN))
    executed_at: Mapped[datetime | None]
    items: Mapped[list[Any]]


class DestructionSignatureRow(Base):
    __tablename__ = "destruction_signatures"

    list_id: Mapped[str] = mapped_column(
        String(ID_LEN), ForeignKey("destruction_lists.list_id", ondelete="RESTRICT"), primary_key=True
    )
    signer: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    signed_at: Mapped[datetime]
