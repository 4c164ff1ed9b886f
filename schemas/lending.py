"""Lending a record: consulting it (查阅), copying it (复制) or lending the paper out (借出).

The seeds' rule (克州社会保险业务档案管理办法 第十二条): a consultation is asked for on a signed
查阅申请单 and approved by the head of the archive department; a copy needs the same approval; lending
out (for 劳动仲裁, a court ruling …) needs a written request approved by the office's leader; every
consultation and copy is registered. Here the request is filed by counter staff or an archivist, decided
by an archivist who did not file it, and everything is in the audit trail.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class LendKind(StrEnum):
    CONSULT = "查阅"
    COPY = "复制"
    LEND = "借出"


class LendStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"
    RETURNED = "returned"  # 借出 only: the paper is back in the archive


class LendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str
    record_id: str
    kind: LendKind
    applicant: str = Field(min_length=1, description="申请人: the insured person or unit asking")
    applicant_id: str | None = Field(default=None, description="their 公民身份号码 or 统一社会信用代码")
    purpose: str = Field(min_length=1, description="why: 待遇核定, 劳动仲裁, 法院裁定 …")
    requested_by: str = Field(description="the staff account that filed the 申请单")
    requested_at: datetime
    status: LendStatus = LendStatus.REQUESTED
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    until: datetime | None = Field(default=None, description="approved until (a copy) or due back (lent out)")
    returned_at: datetime | None = None
    returned_to: str | None = None

    def overdue(self, now: datetime) -> bool:
        return (
            self.kind is LendKind.LEND
            and self.status is LendStatus.APPROVED
            and self.until is not None
            and now > self.until
        )
