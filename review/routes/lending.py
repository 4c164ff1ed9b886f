"""Lending (借阅/复制): file a request from a record, an archivist who did not file it approves or refuses
it, a lent-out paper is registered back; the register is the archive's 查阅记录 and 复印记录.

Counter staff see their own requests; archivists see the whole register. Every step is audited.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from pipeline.store.lending import LendingError
from review.audit_log import audit
from review.deps import changing, now, require
from review.lookups import Seen, visible_record
from review.pages import render
from review.state import AppState, app_state
from review.views import record_view, shown_id
from schemas.access import Can, Viewer
from schemas.lending import LendKind, LendRequest

router = APIRouter()


def _end_of(day: str) -> datetime | None:
    """The end of a day given as YYYY-MM-DD (an approval holds through that day, UTC)."""
    if not day:
        return None
    try:
        return datetime.combine(date.fromisoformat(day), time(23, 59, 59), tzinfo=UTC)
    except ValueError as e:
        raise HTTPException(status_code=422, detail=f"bad request: until: {day!r} is not a date (YYYY-MM-DD)") from e


def _register(state: AppState, viewer: Viewer) -> list[LendRequest]:
    mine = None if viewer.can(Can.LEND_APPROVE) else viewer.username
    shown = []
    for r in state.lending.requests(requested_by=mine):
        shown.append(r.model_copy(update={"applicant_id": shown_id(viewer, r.applicant_id) or None}))
    return shown


@router.get("/lending", response_class=HTMLResponse)
def lending_register(
    request: Request,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(require(Can.LEND_REQUEST))],
    message: str = "",
) -> Response:
    shown = _register(state, viewer)
    audit(state, viewer, "view_lending", why=f"{len(shown)} request(s)")
    return render(
        state, request, "lending.html", viewer, requests=shown, message=message, at=now(),
        can_decide=viewer.can(Can.LEND_APPROVE),
    )  # fmt: skip


@router.get("/records/{record_id}/lend", response_class=HTMLResponse)
def lend_form(request: Request, seen: Annotated[Seen, Depends(visible_record(Can.LEND_REQUEST))]) -> Response:
    audit(seen.state, seen.viewer, "view", record_id=seen.record.record_id, why="lending request form")
    return render(
        seen.state, request, "lend_form.html", seen.viewer, record=record_view(seen.viewer, seen.record),
        kinds=list(LendKind), error=None,
    )  # fmt: skip


@router.post("/records/{record_id}/lend")
def lend_file(
    request: Request,
    record_id: str,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(changing(Can.LEND_REQUEST))],
    kind: Annotated[LendKind, Form()],
    applicant: Annotated[str, Form()],
    purpose: Annotated[str, Form()],
    applicant_id: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
) -> Response:
    found = state.records.get(viewer, record_id)
    if found is None:
        raise HTTPException(status_code=404, detail="no such record, or not one you may see")
    record = found[0]
    due = _end_of(until)
    error = None
    if kind is LendKind.LEND and due is None:
        error = "lending the paper out needs the date it is due back"
    try:
        asked = LendRequest(
            request_id="new", record_id=record.record_id, kind=kind, applicant=applicant.strip(),
            applicant_id=applicant_id.strip() or None, purpose=purpose.strip(), requested_by=viewer.username,
            requested_at=now(), until=due,
        )  # fmt: skip
    except ValidationError:
        error = "say who asks (申请人) and why (用途)"
    if error:
        return render(
            state, request, "lend_form.html", viewer, status_code=422, record=record_view(viewer, record),
            kinds=list(LendKind), error=error,
        )  # fmt: skip
    filed = state.lending.file(asked)
    audit(
        state, viewer, "lend_request", record_id=record.record_id, doc_id=record.doc_id, field=kind.value,
        new=filed.request_id, why=f"{filed.applicant}: {filed.purpose}",
    )  # fmt: skip
    return RedirectResponse(f"/lending?message=Request+{filed.request_id}+filed.", status_code=303)


@router.post("/lending/{request_id}/decide")
def lend_decide(
    request_id: str,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(changing(Can.LEND_APPROVE))],
    decision: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
) -> Response:
    if decision not in ("approve", "refuse"):
        raise HTTPException(status_code=422, detail="bad request: decision is approve or refuse")
    pending = state.lending.get(request_id)
    if pending is None:
        raise HTTPException(status_code=404, detail=f"no lending request {request_id}")
    approve = decision == "approve"
    due = _end_of(until) or pending.until
    if approve and due is None:
        raise HTTPException(status_code=422, detail="an approval says until when it holds")
    try:
        done = state.lending.decide(request_id, viewer.username, approve, due, note.strip() or None, now())
    except LendingError as e:
        raise HTTPException(status_code=409, detail=e.message) from e
    audit(
        state, viewer, "lend_approve" if approve else "lend_refuse", record_id=done.record_id, field=done.kind.value,
        new=request_id, why=f"until {done.until:%Y-%m-%d}. {note}".strip() if done.until else note or None,
    )  # fmt: skip
    return RedirectResponse(f"/lending?message=Request+{request_id}+{decision}d.", status_code=303)


@router.post("/lending/{request_id}/return")
def lend_return(
    request_id: str,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(changing(Can.LEND_APPROVE))],
) -> Response:
    try:
        done = state.lending.register_return(request_id, viewer.username, now())
    except LendingError as e:
        raise HTTPException(status_code=409, detail=e.message) from e
    audit(state, viewer, "lend_return", record_id=done.record_id, field=done.kind.value, new=request_id)
    return RedirectResponse(f"/lending?message=Request+{request_id}+returned.", status_code=303)
