"""Review work: leases on QC tasks (token, expiry, postponement), the corrections table, and the
fields' confidence features (with a reviewer's verdict they are labelled calibration data).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.String(length=128)
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("qc_tasks") as batch:
        batch.add_column(sa.Column("lease_token", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", _TS, nullable=True))
        batch.add_column(sa.Column("postponed_until", _TS, nullable=True))
    with op.batch_alter_table("fields") as batch:
        batch.add_column(sa.Column("features", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True))
    op.create_table(
        "corrections",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", _ID, nullable=False),
        sa.Column("task_id", _ID, nullable=True),
        sa.Column("batch_id", _ID, nullable=False),
        sa.Column("doc_id", _ID, nullable=False),
        sa.Column("form_id", _ID, nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("machine_confidence", sa.Float(), nullable=False),
        sa.Column("machine_status", sa.String(length=16), nullable=False),
        sa.Column("features", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    for col in ("at", "actor", "batch_id", "doc_id"):
        op.create_index(op.f(f"ix_corrections_{col}"), "corrections", [col])


def downgrade() -> None:
    op.drop_table("corrections")
    with op.batch_alter_table("fields") as batch:
        batch.drop_column("features")
    with op.batch_alter_table("qc_tasks") as batch:
        batch.drop_column("postponed_until")
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_token")
