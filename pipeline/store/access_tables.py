"""Tables of the review application: accounts, sessions, failed logins and corrections.

They share the catalogue's metadata (and so its migrations and the autogenerate check); the
audit trail they feed is `audit_events` in `pipeline.store.tables`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store.tables import ID_LEN, SHA_LEN, AutoId, Base

ROLE_LEN = 16
CLIENT_LEN = 64


class UserRow(Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(ID_LEN))
    role: Mapped[str] = mapped_column(String(ROLE_LEN))
    # argon2id encoded hash: algorithm, parameters and salt travel with it.
    password_hash: Mapped[str] = mapped_column(String(256))
    # An insured person's own 公民身份号码: the only records such an account may see.
    id_number: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SessionRow(Base):
    __tablename__ = "user_sessions"

    # Only the token's hash is kept: a copy of the database does not log anyone in.
    token_hash: Mapped[str] = mapped_column(String(SHA_LEN), primary_key=True)
    username: Mapped[str] = mapped_column(String(ID_LEN), ForeignKey("users.username", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(SHA_LEN))
    client: Mapped[str] = mapped_column(String(CLIENT_LEN))
    created_at: Mapped[datetime]
    last_seen: Mapped[datetime]
    expires_at: Mapped[datetime]


class LoginFailureRow(Base):
    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "at"),
        Index("ix_login_failures_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(ID_LEN))
    client: Mapped[str] = mapped_column(String(CLIENT_LEN))
    at: Mapped[datetime]


class CorrectionRow(Base):
    """A reviewer's word on one field: confirmed as read, or corrected, with reason and evidence.

    Kept apart from the audit trail because it is also labelled data (the machine's reading, its
    confidence and features, and the truth) for re-training the calibration.
    """

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    task_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    batch_id: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    doc_id: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    form_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(ID_LEN))
    kind: Mapped[str] = mapped_column(String(16))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    machine_confidence: Mapped[float] = mapped_column(Float)
    machine_status: Mapped[str] = mapped_column(String(16))
    features: Mapped[dict[str, Any]]


class LendRequestRow(Base):
    """A request to consult, copy or lend out a record (查阅 / 复制 / 借出), and what became of it.

    Kept for ever beside the audit trail: it is the archive room's 查阅记录 and 复印记录.
    """

    __tablename__ = "lend_requests"
    __table_args__ = (Index("ix_lend_requests_status_requested_at", "status", "requested_at"),)

    request_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    applicant: Mapped[str] = mapped_column(Text)
    applicant_id: Mapped[str | None] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    requested_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(ID_LEN))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    until: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    returned_to: Mapped[str | None] = mapped_column(String(ID_LEN))
