"""Group verification: the same field of many documents on one screen (all uncertain ID numbers of a
batch as a grid of crops with their values), confirmed all at once or fixed where one is odd.

Each item is saved through the same `ReviewSaver` as the task page, with the same checks: a value
that fails a required field's check is not saved and stays on the screen. A document whose other
fields still need a look goes back to the queue without this field flagged; one with nothing left
is released (accepted) at once.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from pipeline.store.leases import LeaseError
from pipeline.store.review_save import ReviewedField
from review.checks import check_field
from review.record_update import after_review
from review.state import AppState
from review.task_view import field_views
from schemas.access import Viewer
from schemas.review_work import Lease

DEFAULT_EVIDENCE = "原件扫描件"


class GroupItem(BaseModel):
    task_id: str
    token: str
    doc_id: str
    form_id: str
    version: str
    position: int
    key: str
    label: str
    value: str
    reason: str
    required: bool
    check_ok: bool
    check_reason: str | None
    has_crop: bool
    where: str


class GroupEntry(BaseModel):
    """What the screen sends back for one item: `reviewed` is false for one left untouched."""

    task_id: str
    token: str
    version: str
    position: int
    value: str
    reviewed: bool
    reason: str | None = None
    evidence: str | None = None


class GroupOutcome(BaseModel):
    confirmed: int = 0
    corrected: int = 0
    released: int = 0
    given_back: int = 0
    errors: dict[str, str] = {}


def group_items(state: AppState, leases: list[Lease], key: str) -> list[GroupItem]:
    """One item per held task: the first occurrence of `key` that needs a look."""
    items = []
    for lease in leases:
        task = state.leases.task(lease.task_id)
        loaded = state.saver.load(lease.doc_id)
        if task is None or loaded is None:
            continue
        doc, version = loaded
        view = next((f for f in field_views(doc, task) if f.key == key and f.needs_look), None)
        if view is None:
            continue
        items.append(
            GroupItem(
                task_id=lease.task_id, token=lease.token, doc_id=doc.doc_id, version=version,
                form_id=doc.classification.label if doc.classification else "",
                position=view.position, key=key, label=view.label, value=view.value, reason=view.reason,
                required=view.required, check_ok=view.check_ok, check_reason=view.check_reason,
                has_crop=view.has_crop, where=f"{doc.rel_path} p{doc.first_page}",
            )
        )  # fmt: skip
    return items


def save_group(state: AppState, viewer: Viewer, key: str, entries: list[GroupEntry], at: datetime) -> GroupOutcome:
    out = GroupOutcome()
    for entry in entries:
        try:
            _save_one(state, viewer, key, entry, at, out)
        except LeaseError as e:
            out.errors[entry.task_id] = e.message
    return out


def _save_one(state: AppState, viewer: Viewer, key: str, entry: GroupEntry, at: datetime, out: GroupOutcome) -> None:
    if not entry.reviewed:
        # Untouched: back to the queue as it was, for the task page or another group.
        state.groups.give_back(entry.task_id, viewer.username, entry.token, at)
        out.given_back += 1
        return
    state.leases.current(entry.task_id, viewer.username, entry.token, at)
    task = state.leases.task(entry.task_id)
    loaded = state.saver.load(task.doc_id) if task else None
    if task is None or loaded is None:
        raise LeaseError(f"task {entry.task_id} is no longer in the queue")
    doc = loaded[0]
    if not 0 <= entry.position < len(doc.fields) or doc.fields[entry.position].key != key:
        raise LeaseError(f"task {entry.task_id}: the document changed; reload the page")
    form_id = doc.classification.label if doc.classification else None
    raw = entry.value.strip()
    check = check_field(form_id, key, raw)
    if not check.ok and check.required:
        out.errors[entry.task_id] = f"{doc.fields[entry.position].label}: {check.reason}"
        return
    # Released only when no other field of the document still needs a look.
    others = [v for v in field_views(doc, task) if v.needs_look and v.position != entry.position]
    finish = not others
    saved, corrections = state.saver.save(
        task_id=entry.task_id, reviewer=viewer.username, token=entry.token, version=entry.version,
        reviewed=[ReviewedField(position=entry.position, value=raw or None,
                                normalized=check.normalized if check.ok else None, reason=entry.reason or None,
                                evidence=entry.evidence or DEFAULT_EVIDENCE)],
        now=at, client=viewer.client, finish=finish,
    )  # fmt: skip
    if not finish:
        state.groups.give_back(entry.task_id, viewer.username, entry.token, at, drop_key=key)
    after_review(state, saved, corrections)
    for c in corrections:
        if c.kind.value == "corrected":
            out.corrected += 1
        else:
            out.confirmed += 1
    out.released += int(finish)
