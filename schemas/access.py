"""Who may do what in the review application: roles, their capabilities, accounts and sessions.

The capability table is the one place the rules are written; the queries of
`pipeline.store.record_access` and the routes of `review/` both read it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    ADMIN = "admin"  # accounts and settings; no records
    ARCHIVIST = "archivist"  # everything in the archive, review, lending, the audit trail
    REVIEWER = "reviewer"  # the review queue
    COUNTER = "counter"  # search and view, read-only
    INSURED = "insured"  # only the records whose 公民身份号码 is their own


class Can(StrEnum):
    SEARCH = "search"
    VIEW_RECORD = "view_record"
    DOWNLOAD = "download"
    REVIEW = "review"
    CORRECT = "correct"
    LEND_REQUEST = "lend_request"
    LEND_APPROVE = "lend_approve"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    FULL_ID = "full_id"  # sees ID numbers unmasked
    DASHBOARD = "dashboard"
    EXPORT_LABELS = "export_labels"  # corrections as labelled data (they hold ID numbers)


CAPABILITIES: dict[Role, frozenset[Can]] = {
    Role.ADMIN: frozenset({Can.MANAGE_USERS, Can.VIEW_AUDIT}),
    Role.ARCHIVIST: frozenset(
        {
            Can.SEARCH,
            Can.VIEW_RECORD,
            Can.DOWNLOAD,
            Can.REVIEW,
            Can.CORRECT,
            Can.LEND_REQUEST,
            Can.LEND_APPROVE,
            Can.VIEW_AUDIT,
            Can.FULL_ID,
            Can.DASHBOARD,
            Can.EXPORT_LABELS,
        }
    ),
    Role.REVIEWER: frozenset({Can.REVIEW, Can.CORRECT, Can.FULL_ID, Can.DASHBOARD}),
    # A copy (the PDF/A download) only under an approved 复制 request they filed (schemas.lending).
    Role.COUNTER: frozenset({Can.SEARCH, Can.VIEW_RECORD, Can.LEND_REQUEST}),
    # Scoped to their own records by the queries; their own number is theirs to see.
    Role.INSURED: frozenset({Can.SEARCH, Can.VIEW_RECORD, Can.DOWNLOAD, Can.FULL_ID}),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class User(_Model):
    username: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@-]+$")
    display_name: str
    role: Role
    id_number: str | None = Field(default=None, description="an insured person's own 公民身份号码")
    active: bool = True
    created_at: datetime

    def can(self, what: Can) -> bool:
        return self.active and what in CAPABILITIES[self.role]


class Viewer(_Model):
    """The person behind one request, as the queries see them."""

    user: User
    client: str = Field(description="client address, for the audit trail")

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def role(self) -> Role:
        return self.user.role

    def can(self, what: Can) -> bool:
        return self.user.can(what)


class SessionInfo(_Model):
    username: str
    csrf_token: str
    expires_at: datetime
