"""The review dashboard's figures for one batch (or all): queue depth and age, what was cleared today,
what went straight through, the audit sample's precision so far, each reviewer's work and corrections,
and the corrections per field. Counted by the database where it can; one pass over the batch's tasks."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import Engine, func, select

from pipeline.deliver.evidence import SampleEstimate, audit_sample
from pipeline.store import rows
from pipeline.store.access_tables import CorrectionRow
from pipeline.store.engine import transaction
from pipeline.store.tables import DocumentRow, QcTaskRow


class ReviewerWork(BaseModel):
    reviewer: str
    tasks_done: int
    done_today: int
    confirmed: int
    corrected: int
    per_hour: float | None  # tasks an hour over the reviewer's working span today (first to last save)


class FieldCorrections(BaseModel):
    key: str
    confirmed: int
    corrected: int

    @property
    def share_corrected(self) -> float:
        total = self.confirmed + self.corrected
        return round(self.corrected / total, 4) if total else 0.0


class Dashboard(BaseModel):
    batch_id: str | None
    documents: int
    accepted: int
    in_review: int
    straight_through: int  # accepted with no task other than an audit sample
    queue_open: int
    queue_claimed: int
    queue_postponed: int
    done_today: int
    oldest_waiting_since: datetime | None
    audit: SampleEstimate
    reviewers: list[ReviewerWork]
    fields: list[FieldCorrections]

    def oldest_waiting_hours(self, now: datetime) -> float | None:
        if self.oldest_waiting_since is None:
            return None
        return round((now - self.oldest_waiting_since).total_seconds() / 3600, 1)


def _per_hour(times: list[datetime]) -> float | None:
    if len(times) < 2:
        return None
    span = (max(times) - min(times)).total_seconds() / 3600
    return round((len(times) - 1) / span, 1) if span > 0 else None


class ReviewStats:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def batches(self) -> list[str]:
        with transaction(self._engine, "list batches with documents", write=False) as s:
            return list(s.scalars(select(DocumentRow.batch_id).distinct().order_by(DocumentRow.batch_id)))

    def dashboard(self, batch_id: str | None, now: datetime) -> Dashboard:
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        with transaction(self._engine, "count review work", write=False) as s:
            docs = select(DocumentRow.status, func.count()).group_by(DocumentRow.status)
            task_stmt = select(QcTaskRow).join(DocumentRow, DocumentRow.doc_id == QcTaskRow.doc_id)
            corr = select(CorrectionRow.actor, CorrectionRow.key, CorrectionRow.kind, CorrectionRow.doc_id)
            if batch_id is not None:
                docs = docs.where(DocumentRow.batch_id == batch_id)
                task_stmt = task_stmt.where(DocumentRow.batch_id == batch_id)
                corr = corr.where(CorrectionRow.batch_id == batch_id)
            by_status = {status: int(n) for status, n in s.execute(docs)}
            task_rows = list(s.scalars(task_stmt))
            corrections = list(s.execute(corr))
        tasks = [rows.qc_task_model(r) for r in task_rows]
        reviewed_docs = {t.doc_id for t in tasks if not t.audit_sample}
        accepted_docs = self._accepted_without_review(batch_id, reviewed_docs)
        corrected_per_doc: Counter[str] = Counter(d for _a, _k, kind, d in corrections if kind == "corrected")
        by_actor: dict[str, Counter[str]] = defaultdict(Counter)
        by_key: dict[str, Counter[str]] = defaultdict(Counter)
        for actor, key, kind, _doc in corrections:
            by_actor[actor][kind] += 1
            by_key[key][kind] += 1
        done_at: dict[str, list[datetime]] = defaultdict(list)
        for r in task_rows:
            if r.status == "done" and r.claimed_by and r.completed_at:
                done_at[r.claimed_by].append(r.completed_at)
        reviewers = sorted(set(done_at) | set(by_actor))
        waiting = [r.created_at for r in task_rows if r.status != "done"]
        return Dashboard(
            batch_id=batch_id,
            documents=sum(by_status.values()),
            accepted=by_status.get("accepted", 0),
            in_review=by_status.get("review", 0),
            straight_through=accepted_docs,
            queue_open=sum(
                r.status == "open" and (r.postponed_until is None or r.postponed_until <= now) for r in task_rows
            ),
            queue_claimed=sum(
                r.status == "claimed" and bool(r.lease_expires_at and r.lease_expires_at > now) for r in task_rows
            ),
            queue_postponed=sum(
                r.status == "open" and bool(r.postponed_until and r.postponed_until > now) for r in task_rows
            ),
            done_today=sum(r.status == "done" and bool(r.completed_at and r.completed_at >= today) for r in task_rows),
            oldest_waiting_since=min(waiting) if waiting else None,
            audit=audit_sample(tasks, dict(corrected_per_doc)),
            reviewers=[
                ReviewerWork(
                    reviewer=name,
                    tasks_done=len(done_at[name]),
                    done_today=sum(t >= today for t in done_at[name]),
                    confirmed=by_actor[name]["confirmed"],
                    corrected=by_actor[name]["corrected"],
                    per_hour=_per_hour([t for t in done_at[name] if t >= now - timedelta(hours=24)]),
                )
                for name in reviewers
            ],
            fields=sorted(
                (
                    FieldCorrections(key=k, confirmed=c["confirmed"], corrected=c["corrected"])
                    for k, c in by_key.items()
                ),
                key=lambda f: (-f.corrected, f.key),
            ),
        )

    def _accepted_without_review(self, batch_id: str | None, reviewed_docs: set[str]) -> int:
        with transaction(self._engine, "count accepted documents", write=False) as s:
            stmt = select(DocumentRow.doc_id).where(DocumentRow.status == "accepted")
            if batch_id is not None:
                stmt = stmt.where(DocumentRow.batch_id == batch_id)
            return sum(1 for d in s.scalars(stmt) if d not in reviewed_docs)
