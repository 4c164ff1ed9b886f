"""ORM table definitions of the catalogue (SQLite and PostgreSQL alike).

Typed columns exist so reviewers and queries can filter on them; where a model has more
than the columns hold, a `data` JSON column keeps the whole pydantic model so reads
round-trip exactly. The Alembic migrations under `pipeline/migrations/` must match this
module; `tests/test_store.py` checks that with Alembic's autogenerate comparison.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so a later migration can drop or alter them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL can be indexed and queried; plain JSON (text) on SQLite.
JsonType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only makes a rowid alias (autoincrement) of a column declared exactly INTEGER.
AutoId = BigInteger().with_variant(Integer(), "sqlite")

ID_LEN = 128
SHA_LEN = 64


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases.

    SQLite stores no offset and PostgreSQL returns the session's zone; normalising to UTC
    makes sorting correct and values compare equal after a round trip. A naive datetime
    is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        utc = aware.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UtcDateTime(),
        date: Date(),
        dict[str, Any]: JsonType,
        list[Any]: JsonType,
    }


class BatchRow(Base):
    __tablename__ = "batches"

    batch_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    root: Mapped[str] = mapped_column(Text)
    manifest: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class BatchRunRow(Base):
    __tablename__ = "batch_runs"

    # An Airflow run id is unique within its DAG only; with the batch it names one run.
    batch_id: Mapped[str] = mapped_column(
        String(ID_LEN), ForeignKey("batches.batch_id", ondelete="CASCADE"), primary_key=True
    )
    run_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    pages_before: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[list[Any]]


class SourceFileRow(Base):
    __tablename__ = "source_files"

    # A vendor may rescan a file in place: the path is the identity within a batch, the
    # hash (file_id) follows the content.
    batch_id: Mapped[str] = mapped_column(
        String(ID_LEN), ForeignKey("batches.batch_id", ondelete="CASCADE"), primary_key=True
    )
    rel_path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    file_id: Mapped[str] = mapped_column(String(SHA_LEN), index=True)
    kind: Mapped[str | None] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(SHA_LEN))
    page_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    # The same bytes seen before (in this batch or another): found by sha256, recorded once.
    duplicate_of: Mapped[str | None] = mapped_column(String(SHA_LEN))
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_source_files_sha256", "sha256"),)


class PageRow(Base):
    __tablename__ = "pages"

    # Keyed by content hash: identical bytes give identical pages, so a duplicate scan
    # reuses the OCR already done instead of recognising the page again.
    file_id: Mapped[str] = mapped_column(String(SHA_LEN), primary_key=True)
    page_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str] = mapped_column(
        String(ID_LEN), ForeignKey("batches.batch_id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    is_blank: Mapped[bool] = mapped_column(Boolean)
    rotation: Mapped[int] = mapped_column(Integer)
    skew: Mapped[float] = mapped_column(Float)
    data: Mapped[dict[str, Any]]


class DocumentRow(Base):
    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_batch_file", "batch_id", "file_id"),)

    doc_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(ID_LEN), ForeignKey("batches.batch_id", ondelete="CASCADE"))
    file_id: Mapped[str] = mapped_column(String(SHA_LEN))
    rel_path: Mapped[str] = mapped_column(String(1024))
    first_page: Mapped[int] = mapped_column(Integer)
    last_page: Mapped[int] = mapped_column(Integer)
    form_id: Mapped[str | None] = mapped_column(String(ID_LEN), index=True)
    form_confidence: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # The Document model without its fields; those live one per row in `fields`.
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class FieldRow(Base):
    __tablename__ = "fields"
    __table_args__ = (Index("ix_fields_key_normalized", "key", "normalized"),)

    # Position, not key, is the identity: a form may carry a key twice (two applicants).
    doc_id: Mapped[str] = mapped_column(
        String(ID_LEN), ForeignKey("documents.doc_id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(ID_LEN))
    label: Mapped[str] = mapped_column(Text)
    value: Mapped[str | None] = mapped_column(Text)
    normalized: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), index=True)
    page_no: Mapped[int | None] = mapped_column(Integer)
    box: Mapped[list[Any] | None]
    reasons: Mapped[list[Any]]
    # What the confidence was computed from: with a reviewer's verdict it is labelled calibration data.
    features: Mapped[dict[str, Any] | None]


class RecordRow(Base):
    __tablename__ = "records"

    record_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(ID_LEN), ForeignKey("documents.doc_id", ondelete="CASCADE"), unique=True)
    archive_no: Mapped[str] = mapped_column(String(ID_LEN), unique=True)
    person_id: Mapped[str | None] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(Text)
    form_date: Mapped[date | None]
    retention: Mapped[str | None] = mapped_column(String(16))
    destroy_after: Mapped[date | None] = mapped_column(index=True)
    pdfa_path: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(SHA_LEN))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class QcTaskRow(Base):
    __tablename__ = "qc_tasks"
    __table_args__ = (Index("ix_qc_tasks_status_created", "status", "created_at"),)

    task_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(ID_LEN), ForeignKey("documents.doc_id", ondelete="CASCADE"), index=True)
    reasons: Mapped[list[Any]]
    fields: Mapped[list[Any]]
    audit_sample: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    claimed_by: Mapped[str | None] = mapped_column(String(ID_LEN))
    claimed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # The review application's lease (pipeline.store.leases): who holds the task until when; a
    # new token per claim, so a save from an earlier claim is told apart from the current one.
    lease_token: Mapped[str | None] = mapped_column(String(SHA_LEN))
    lease_expires_at: Mapped[datetime | None]
    postponed_until: Mapped[datetime | None]


class AuditEventRow(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    # Hash of the event's content: a retried task replaying the same event adds nothing.
    event_key: Mapped[str] = mapped_column(String(SHA_LEN), unique=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(ID_LEN))
    action: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str | None] = mapped_column(String(ID_LEN), index=True)
    doc_id: Mapped[str | None] = mapped_column(String(ID_LEN), index=True)
    field: Mapped[str | None] = mapped_column(String(ID_LEN))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    why: Mapped[str | None] = mapped_column(Text)
    client: Mapped[str | None] = mapped_column(String(64))
    # Each entry hashes its content with the entry before it (pipeline.store.audit_chain):
    # a removed or edited entry breaks the chain where it was.
    prev_hash: Mapped[str] = mapped_column(String(SHA_LEN))
    entry_hash: Mapped[str] = mapped_column(String(SHA_LEN))
