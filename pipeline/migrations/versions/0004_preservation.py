"""Preservation: fixity checks over time, appraisal decisions, destruction lists and their signatures.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.String(length=128)
_TS = sa.DateTime(timezone=True)
_KIND = sa.String(length=16)


def upgrade() -> None:
    op.create_table(
        "fixity_checks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("kind", _KIND, nullable=False),
        sa.Column("subject", _ID, nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("expected", sa.String(length=64), nullable=False),
        sa.Column("actual", sa.String(length=64), nullable=True),
        sa.Column("outcome", _KIND, nullable=False),
        sa.Column("agent", _ID, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fixity_checks")),
    )
    op.create_index(op.f("ix_fixity_checks_at"), "fixity_checks", ["at"])
    op.create_index(op.f("ix_fixity_checks_outcome"), "fixity_checks", ["outcome"])
    op.create_index("ix_fixity_checks_subject_at", "fixity_checks", ["subject", "at"])
    op.create_table(
        "appraisals",
        sa.Column("record_id", _ID, nullable=False),
        sa.Column("decision", _KIND, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("keep_until", sa.Date(), nullable=True),
        sa.Column("decided_by", _ID, nullable=False),
        sa.Column("decided_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_appraisals")),
    )
    op.create_table(
        "destruction_lists",
        sa.Column("list_id", _ID, nullable=False),
        sa.Column("created_by", _ID, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("status", _KIND, nullable=False),
        sa.Column("executed_at", _TS, nullable=True),
        sa.Column("items", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("list_id", name=op.f("pk_destruction_lists")),
    )
    op.create_table(
        "destruction_signatures",
        sa.Column("list_id", _ID, nullable=False),
        sa.Column("signer", _ID, nullable=False),
        sa.Column("signed_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["destruction_lists.list_id"],
            name=op.f("fk_destruction_signatures_list_id_destruction_lists"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("list_id", "signer", name=op.f("pk_destruction_signatures")),
    )


def downgrade() -> None:
    op.drop_table("destruction_signatures")
    op.drop_table("destruction_lists")
    op.drop_table("appraisals")
    op.drop_index("ix_fixity_checks_subject_at", table_name="fixity_checks")
    op.drop_table("fixity_checks")
