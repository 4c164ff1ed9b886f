"""The QC evidence a delivery carries: the batch's self-check, the correction log and the audit sample.

The audit sample is the share of accepted documents sent to review anyway; its measured precision
(sampled documents a reviewer passed without a correction) is the vendor's evidence that what went
straight through is right, given with a Wilson 95 % interval so a small sample does not overclaim.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel

from schemas.models import Document, DocumentStatus, QcTask

_Z95 = 1.959964


class SampleEstimate(BaseModel):
    sampled: int
    reviewed: int
    without_correction: int
    precision: float | None
    low: float | None
    high: float | None


class CorrectionRow(BaseModel):
    seq: int
    archive_code: str
    field: str
    old: str
    new: str
    why: str
    actor: str
    at: str
    record_text: str


class SampleRow(BaseModel):
    seq: int
    archive_code: str
    reviewer: str
    status: str
    corrected_fields: int


class SelfCheck(BaseModel):
    batch_id: str
    documents: int
    records: int
    accepted_straight_through: int
    straight_through_share: float
    reviewed: int
    corrections: int
    review_reasons: dict[str, int]
    audit_sample: SampleEstimate
    quarantined_files: list[str]


def wilson(successes: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def audit_sample(tasks: Sequence[QcTask], corrections_per_doc: dict[str, int]) -> SampleEstimate:
    sampled = [t for t in tasks if t.audit_sample]
    reviewed = [t for t in sampled if t.status == "done"]
    clean = sum(1 for t in reviewed if corrections_per_doc.get(t.doc_id, 0) == 0)
    if not reviewed:
        return SampleEstimate(
            sampled=len(sampled), reviewed=0, without_correction=0, precision=None, low=None, high=None
        )
    low, high = wilson(clean, len(reviewed))
    return SampleEstimate(
        sampled=len(sampled),
        reviewed=len(reviewed),
        without_correction=clean,
        precision=round(clean / len(reviewed), 4),
        low=round(low, 4),
        high=round(high, 4),
    )


def self_check(
    batch_id: str,
    documents: Sequence[Document],
    records: int,
    tasks: Sequence[QcTask],
    corrections_per_doc: dict[str, int],
    quarantined: list[str],
) -> SelfCheck:
    reasons: dict[str, int] = {}
    for t in tasks:
        for r in t.reasons:
            key = r.split(":", 1)[0]
            reasons[key] = reasons.get(key, 0) + 1
    straight = sum(
        1
        for d in documents
        if d.status is DocumentStatus.ACCEPTED and not any(t.doc_id == d.doc_id and not t.audit_sample for t in tasks)
    )
    return SelfCheck(
        batch_id=batch_id,
        documents=len(documents),
        records=records,
        accepted_straight_through=straight,
        straight_through_share=round(straight / len(documents), 4) if documents else 0.0,
        reviewed=sum(1 for t in tasks if t.status == "done"),
        corrections=sum(corrections_per_doc.values()),
        review_reasons=dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        audit_sample=audit_sample(tasks, corrections_per_doc),
        quarantined_files=quarantined,
    )
