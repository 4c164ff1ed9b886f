"""Review application: accounts, sessions, failed logins; the audit trail becomes a hash chain.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from pipeline.store.audit_chain import GENESIS, entry_hash

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.String(length=128)
_SHA = sa.String(length=64)
_TS = sa.DateTime(timezone=True)
_AUTO = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("username", _ID, nullable=False),
        sa.Column("display_name", _ID, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("id_number", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_users")),
    )
    op.create_table(
        "user_sessions",
        sa.Column("token_hash", _SHA, nullable=False),
        sa.Column("username", _ID, nullable=False),
        sa.Column("csrf_token", _SHA, nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("last_seen", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["username"], ["users.username"], name=op.f("fk_user_sessions_username_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_user_sessions")),
    )
    op.create_index(op.f("ix_user_sessions_username"), "user_sessions", ["username"])
    op.create_table(
        "login_failures",
        sa.Column("id", _AUTO, autoincrement=True, nullable=False),
        sa.Column("username", _ID, nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_username_at", "login_failures", ["username", "at"])
    op.create_index("ix_login_failures_client_at", "login_failures", ["client", "at"])

    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("client", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("prev_hash", _SHA, nullable=True))
        batch.add_column(sa.Column("entry_hash", _SHA, nullable=True))
    _chain_existing_events()
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("prev_hash", existing_type=_SHA, nullable=False)
        batch.alter_column("entry_hash", existing_type=_SHA, nullable=False)


def _chain_existing_events() -> None:
    # The pipeline's earlier events join the chain in the order they were written, with the
    # chain's own hash (the definition of the chain, so it is imported, not copied).
    conn = op.get_bind()
    cols = "id, event_key, at, actor, action, record_id, doc_id, field, old, new, why, client"
    prev = GENESIS
    for row in conn.execute(sa.text(f"SELECT {cols} FROM audit_events ORDER BY id")).mappings().all():
        values = dict(row)
        at = values["at"]
        if isinstance(at, str):  # SQLite hands back text
            at = datetime.fromisoformat(at)
        values["at"] = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        h = entry_hash(prev, values)
        conn.execute(
            sa.text("UPDATE audit_events SET prev_hash = :p, entry_hash = :h WHERE id = :id"),
            {"p": prev, "h": h, "id": values["id"]},
        )
        prev = h


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("entry_hash")
        batch.drop_column("prev_hash")
        batch.drop_column("client")
    op.drop_table("login_failures")
    op.drop_table("user_sessions")
    op.drop_table("users")
