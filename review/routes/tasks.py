"""Review work: the queue, the next task under a lease, the task page, live checks, heartbeat, save.

Keyboard only (static/app.js): Enter confirms, typing corrects, Tab goes to the next field that
needs a look, Alt+N saves and takes the next task, Alt+P postpones, Alt+R rejects.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.datastructures import FormData

from pipeline.store.leases import LeaseError
from pipeline.store.review_save import ReviewedField
from review.audit_log import audit
from review.checks import check_field
from review.deps import changing, now, require
from review.images import ImageMissingError, crop_png, page_png
from review.lookups import Held, held, held_task
from review.pages import render
from review.record_update import after_review
from review.state import AppState, app_state
from review.task_view import field_views, form_choices
from schemas.access import Can, Viewer

router = APIRouter()
DEFAULT_EVIDENCE = "原件扫描件"


def _ttl(state: AppState) -> timedelta:
    return timedelta(minutes=state.settings.review.lease_minutes)


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(require(Can.REVIEW))],
    message: str = "",
) -> Response:
    waiting = state.leases.queue_size(now())
    audit(state, viewer, "view_queue", why=f"{waiting} task(s) waiting")
    return render(state, request, "queue.html", viewer, waiting=waiting, message=message)


def _take_next(state: AppState, viewer: Viewer, batch_id: str | None = None) -> Response:
    lease = state.leases.claim_next(viewer.username, now(), _ttl(state), batch_id or None)
    if lease is None:
        return RedirectResponse("/queue?message=The+queue+is+empty.", status_code=303)
    audit(state, viewer, "claim", doc_id=lease.doc_id, why=f"task {lease.task_id}")
    return RedirectResponse(f"/tasks/{lease.task_id}", status_code=303)


@router.post("/queue/next")
def next_task(
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(changing(Can.REVIEW))],
) -> Response:
    return _take_next(state, viewer)


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
def task_page(request: Request, work: Annotated[Held, Depends(held_task)], message: str = "") -> Response:
    return task_page_response(request, work, errors={}, status_code=200, message=message)


def task_page_response(
    request: Request, work: Held, errors: dict[int, str], status_code: int, message: str = ""
) -> Response:
    doc, task = work.doc, work.task
    if status_code == 200:
        audit(work.state, work.viewer, "view_task", doc_id=doc.doc_id, why=f"task {task.task_id}")
    return render(
        work.state, request, "task.html", work.viewer, status_code=status_code, task=task, doc=doc, lease=work.lease,
        version=work.version, fields=field_views(doc, task), errors=errors,
        form_id=doc.classification.label if doc.classification else "",
        pages=list(range(1, doc.last_page - doc.first_page + 2)),
        forms=form_choices(), message=message,
    )  # fmt: skip


def _page_image(work: Held, page_no: int) -> str:
    doc = work.doc
    file_page = doc.first_page + page_no - 1
    if not doc.first_page <= file_page <= doc.last_page:
        raise HTTPException(status_code=404, detail=f"the document has no page {page_no}")
    page = next((p for p in work.state.store.pages(doc.file_id) if p.page.page_no == file_page), None)
    if page is None:
        raise HTTPException(status_code=404, detail=f"page {page_no} of the document is not in the catalogue")
    return page.page.image_path


@router.get("/tasks/{task_id}/crop/{position}")
def field_crop(position: int, work: Annotated[Held, Depends(held_task)]) -> Response:
    if not 0 <= position < len(work.doc.fields):
        raise HTTPException(status_code=404, detail="no such field")
    field = work.doc.fields[position]
    if field.box is None or field.page_no is None:
        raise HTTPException(status_code=404, detail="the field has no box on the page")
    image_path = _page_image(work, field.page_no)
    box = field.box
    return _image(lambda: crop_png(Path(image_path), box))


@router.get("/tasks/{task_id}/page/{page_no}")
def whole_page(page_no: int, work: Annotated[Held, Depends(held_task)]) -> Response:
    image_path = _page_image(work, page_no)
    return _image(lambda: page_png(Path(image_path)))


def _image(make: Callable[[], bytes]) -> Response:
    try:
        return Response(make(), media_type="image/png", headers={"Cache-Control": "private, max-age=600"})
    except ImageMissingError as e:
        raise HTTPException(status_code=404, detail=str(e)) from e


class CheckRequest(BaseModel):
    form_id: str | None = None
    key: str
    value: str = ""


@router.post("/api/check")
def live_check(
    body: CheckRequest,
    viewer: Annotated[Viewer, Depends(changing(Can.REVIEW))],
) -> JSONResponse:
    del viewer  # checks read no record: the role is all that matters
    return JSONResponse(check_field(body.form_id, body.key, body.value).model_dump())


@router.post("/tasks/{task_id}/heartbeat")
def heartbeat(
    task_id: str,
    request: Request,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(changing(Can.REVIEW))],
) -> JSONResponse:
    token = request.headers.get("x-lease-token", "")
    try:
        until = state.leases.heartbeat(task_id, viewer.username, token, now(), _ttl(state))
    except LeaseError as e:
        return JSONResponse({"detail": e.message}, status_code=409)
    return JSONResponse({"expires_at": until.isoformat()})


@router.post("/tasks/{task_id}")
async def save_task(
    task_id: str,
    request: Request,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(changing(Can.CORRECT))],
) -> Response:
    form = await request.form()
    action = str(form.get("action", "save"))
    token = str(form.get("token", ""))
    note = str(form.get("note", "")).strip()
    work = held(state, viewer, task_id, token)
    at = now()
    try:
        if action == "postpone":
            until = at + timedelta(minutes=state.settings.review.postpone_minutes)
            state.leases.postpone(task_id, viewer.username, token, at, until)
            audit(state, viewer, "postpone", why=f"task {task_id} until {until:%H:%M} UTC. {note}".strip())
            return _take_next(state, viewer)
        if action == "reject":
            if not note:
                return task_page_response(request, work, {-1: "say why the document is rejected"}, 422)
            state.leases.complete(task_id, viewer.username, token, at)
            audit(state, viewer, "reject", doc_id=work.doc.doc_id, why=f"task {task_id}: {note}")
            return _take_next(state, viewer)
        return _save(request, work, token, str(form.get("version", "")), form, at, action)
    except LeaseError as e:
        raise HTTPException(status_code=409, detail=e.message) from e


def _save(
    request: Request, work: Held, token: str, version: str, form: FormData, at: datetime, action: str
) -> Response:
    state, viewer, doc = work.state, work.viewer, work.doc
    form_id = doc.classification.label if doc.classification else None
    reviewed: list[ReviewedField] = []
    errors: dict[int, str] = {}
    for position, f in enumerate(doc.fields):
        name = f"v{position}"
        if name not in form:
            continue
        raw = str(form[name]).strip()
        check = check_field(form_id, f.key, raw)
        if not check.ok and check.required:
            errors[position] = f"{f.label}: {check.reason}"
            continue
        reviewed.append(
            ReviewedField(
                position=position,
                value=raw or None,
                normalized=check.normalized if check.ok else None,
                reason=str(form.get(f"r{position}", "")).strip() or None,
                evidence=str(form.get(f"e{position}", "")).strip() or DEFAULT_EVIDENCE,
            )
        )
    if errors:
        # A required field that fails its check keeps the document from being released.
        return task_page_response(request, work, errors, 422)
    saved, corrections = state.saver.save(
        task_id=work.task.task_id, reviewer=viewer.username, token=token, version=version, reviewed=reviewed, now=at,
        client=viewer.client,
    )  # fmt: skip
    after_review(state, saved, corrections)
    if action == "save_next":
        return _take_next(state, viewer)
    return RedirectResponse("/queue?message=Saved.", status_code=303)
