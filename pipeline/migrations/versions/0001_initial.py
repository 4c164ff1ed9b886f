"""Initial catalogue schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Self-contained on purpose: a migration describes the schema as it was at this revision,
so it does not import the (moving) table definitions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.String(length=128)
_SHA = sa.String(length=64)
_STATUS = sa.String(length=16)
_PATH = sa.String(length=1024)
_TS = sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    ref_table = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{ref_table}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("batch_id", _ID, nullable=False),
        sa.Column("root", sa.Text(), nullable=False),
        sa.Column("manifest", _json(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_batches")),
    )
    op.create_table(
        "source_files",
        sa.Column("batch_id", _ID, nullable=False),
        sa.Column("rel_path", _PATH, nullable=False),
        sa.Column("file_id", _SHA, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", _SHA, nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        _fk("source_files", "batch_id", "batches.batch_id"),
        sa.PrimaryKeyConstraint("batch_id", "rel_path", name=op.f("pk_source_files")),
    )
    op.create_index(op.f("ix_source_files_file_id"), "source_files", ["file_id"])
    op.create_index(op.f("ix_source_files_status"), "source_files", ["status"])

    op.create_table(
        "pages",
        sa.Column("file_id", _SHA, nullable=False),
        sa.Column("page_no", sa.Integer(), nullable=False),
        sa.Column("batch_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("is_blank", sa.Boolean(), nullable=False),
        sa.Column("rotation", sa.Integer(), nullable=False),
        sa.Column("skew", sa.Float(), nullable=False),
        sa.Column("data", _json(), nullable=False),
        _fk("pages", "batch_id", "batches.batch_id"),
        sa.PrimaryKeyConstraint("file_id", "page_no", name=op.f("pk_pages")),
    )
    op.create_index(op.f("ix_pages_batch_id"), "pages", ["batch_id"])

    op.create_table(
        "documents",
        sa.Column("doc_id", _ID, nullable=False),
        sa.Column("batch_id", _ID, nullable=False),
        sa.Column("file_id", _SHA, nullable=False),
        sa.Column("rel_path", _PATH, nullable=False),
        sa.Column("first_page", sa.Integer(), nullable=False),
        sa.Column("last_page", sa.Integer(), nullable=False),
        sa.Column("form_id", _ID, nullable=True),
        sa.Column("form_confidence", sa.Float(), nullable=True),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("data", _json(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        _fk("documents", "batch_id", "batches.batch_id"),
        sa.PrimaryKeyConstraint("doc_id", name=op.f("pk_documents")),
    )
    op.create_index("ix_documents_batch_file", "documents", ["batch_id", "file_id"])
    op.create_index(op.f("ix_documents_form_id"), "documents", ["form_id"])
    op.create_index(op.f("ix_documents_status"), "documents", ["status"])

    op.create_table(
        "fields",
        sa.Column("doc_id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", _ID, nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("normalized", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("page_no", sa.Integer(), nullable=True),
        sa.Column("box", _json(), nullable=True),
        sa.Column("reasons", _json(), nullable=False),
        _fk("fields", "doc_id", "documents.doc_id"),
        sa.PrimaryKeyConstraint("doc_id", "position", name=op.f("pk_fields")),
    )
    op.create_index("ix_fields_key_normalized", "fields", ["key", "normalized"])
    op.create_index(op.f("ix_fields_status"), "fields", ["status"])

    op.create_table(
        "records",
        sa.Column("record_id", _ID, nullable=False),
        sa.Column("doc_id", _ID, nullable=False),
        sa.Column("archive_no", _ID, nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("form_date", sa.Date(), nullable=True),
        sa.Column("retention", sa.String(length=16), nullable=True),
        sa.Column("destroy_after", sa.Date(), nullable=True),
        sa.Column("pdfa_path", sa.Text(), nullable=True),
        sa.Column("sha256", _SHA, nullable=True),
        sa.Column("data", _json(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        _fk("records", "doc_id", "documents.doc_id"),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_records")),
        sa.UniqueConstraint("archive_no", name=op.f("uq_records_archive_no")),
        sa.UniqueConstraint("doc_id", name=op.f("uq_records_doc_id")),
    )
    op.create_index(op.f("ix_records_destroy_after"), "records", ["destroy_after"])
    op.create_index(op.f("ix_records_person_id"), "records", ["person_id"])

    op.create_table(
        "qc_tasks",
        sa.Column("task_id", _ID, nullable=False),
        sa.Column("doc_id", _ID, nullable=False),
        sa.Column("reasons", _json(), nullable=False),
        sa.Column("fields", _json(), nullable=False),
        sa.Column("audit_sample", sa.Boolean(), nullable=False),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("claimed_by", _ID, nullable=True),
        sa.Column("claimed_at", _TS, nullable=True),
        sa.Column("completed_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        _fk("qc_tasks", "doc_id", "documents.doc_id"),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_qc_tasks")),
    )
    op.create_index(op.f("ix_qc_tasks_doc_id"), "qc_tasks", ["doc_id"])
    op.create_index("ix_qc_tasks_status_created", "qc_tasks", ["status", "created_at"])

    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event_key", _SHA, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", _ID, nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("record_id", _ID, nullable=True),
        sa.Column("doc_id", _ID, nullable=True),
        sa.Column("field", _ID, nullable=True),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("why", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("event_key", name=op.f("uq_audit_events_event_key")),
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"])
    op.create_index(op.f("ix_audit_events_doc_id"), "audit_events", ["doc_id"])
    op.create_index(op.f("ix_audit_events_record_id"), "audit_events", ["record_id"])


def downgrade() -> None:
    # Children before parents; dropping a table drops its indexes.
    for table in ("audit_events", "qc_tasks", "records", "fields", "documents", "pages", "source_files"):
        op.drop_table(table)
    op.drop_table("batches")
