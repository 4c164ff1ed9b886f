"""What a route names in its path, resolved once for every route that names it.

A record is looked up through the viewer's scope (`pipeline.store.record_access`): one outside it
answers 404 exactly like one that does not exist. A task is looked up through the viewer's live
lease: one they do not hold answers 409 with the reason. Either way nothing is read past the check
and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException

from pipeline.store.leases import LeaseError
from review.deps import current_viewer, now, require
from review.state import AppState, app_state
from schemas.access import Can, Viewer
from schemas.models import ArchiveRecord, Document, QcTask
from schemas.review_work import Lease

NOT_FOUND = "no such record, or not one you may see"


@dataclass(frozen=True)
class Seen:
    """A record the viewer may see, with its document."""

    state: AppState
    viewer: Viewer
    record: ArchiveRecord
    doc: Document


class visible_record:  # lower case: it reads as a factory, Depends(visible_record(Can.X))
    """A dependency: the path's `record_id` when the viewer's role has `what` and the record is in scope.

    A callable instance rather than a closure: FastAPI reads the parameters' annotations by name, and a
    closure's `what` is not among the names it can see.
    """

    def __init__(self, what: Can) -> None:
        self.what = what

    def __call__(
        self,
        record_id: str,
        state: Annotated[AppState, Depends(app_state)],
        viewer: Annotated[Viewer, Depends(current_viewer)],
    ) -> Seen:
        if not viewer.can(self.what):
            raise HTTPException(status_code=403, detail=f"your role ({viewer.role.value}) may not do this")
        found = state.records.get(viewer, record_id)
        if found is None:
            raise HTTPException(status_code=404, detail=NOT_FOUND)
        return Seen(state=state, viewer=viewer, record=found[0], doc=found[1])


@dataclass(frozen=True)
class Held:
    """A task the viewer holds under a live lease, with the document as it is now and its version."""

    state: AppState
    viewer: Viewer
    lease: Lease
    task: QcTask
    doc: Document
    version: str


def held(state: AppState, viewer: Viewer, task_id: str, token: str | None = None) -> Held:
    """The task if `viewer` holds it (with `token`, when given); else 409 saying why not."""
    try:
        lease = state.leases.current(task_id, viewer.username, token, now())
    except LeaseError as e:
        raise HTTPException(status_code=409, detail=e.message) from e
    task = state.leases.task(task_id)
    loaded = state.saver.load(lease.doc_id)
    if task is None or loaded is None:
        raise HTTPException(status_code=409, detail=f"task {task_id} is no longer in the queue; take the next task")
    return Held(state=state, viewer=viewer, lease=lease, task=task, doc=loaded[0], version=loaded[1])


def held_task(
    task_id: str,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(require(Can.REVIEW))],
) -> Held:
    """A dependency: the path's `task_id`, held by a viewer who may review."""
    return held(state, viewer, task_id)
