"""Lending: requests to consult, copy or lend out a record (查阅 / 复制 / 借出), their approval and return.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.String(length=128)
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lend_requests",
        sa.Column("request_id", _ID, nullable=False),
        sa.Column("record_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("applicant", sa.Text(), nullable=False),
        sa.Column("applicant_id", sa.String(length=32), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("requested_by", _ID, nullable=False),
        sa.Column("requested_at", _TS, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", _ID, nullable=True),
        sa.Column("decided_at", _TS, nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("until", _TS, nullable=True),
        sa.Column("returned_at", _TS, nullable=True),
        sa.Column("returned_to", _ID, nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_lend_requests")),
    )
    op.create_index(op.f("ix_lend_requests_record_id"), "lend_requests", ["record_id"])
    op.create_index(op.f("ix_lend_requests_requested_by"), "lend_requests", ["requested_by"])
    op.create_index("ix_lend_requests_status_requested_at", "lend_requests", ["status", "requested_at"])


def downgrade() -> None:
    op.drop_table("lend_requests")
