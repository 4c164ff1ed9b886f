"""Batch runs: when each run over a batch began and ended, and what the batch held before it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.String(length=128)
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "batch_runs",
        sa.Column("batch_id", _ID, nullable=False),
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("pages_before", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.batch_id"], name=op.f("fk_batch_runs_batch_id_batches"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("batch_id", "run_id", name=op.f("pk_batch_runs")),
    )


def downgrade() -> None:
    op.drop_table("batch_runs")
