"""Source files: the original a duplicate repeats, a note on what a file carried, lookup by content hash.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("source_files") as batch:
        batch.add_column(sa.Column("duplicate_of", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
    op.create_index("ix_source_files_sha256", "source_files", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_source_files_sha256", table_name="source_files")
    with op.batch_alter_table("source_files") as batch:
        batch.drop_column("note")
        batch.drop_column("duplicate_of")
