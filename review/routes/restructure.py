"""The reviewer fixes the document itself from its task page: split, merge with the next, change the form."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from review.deps import changing, now
from review.lookups import held
from review.restructure import Change, RestructureError, restructure
from review.routes.tasks import task_page_response
from review.state import AppState, app_state
from schemas.access import Can, Viewer

router = APIRouter()


@router.post("/tasks/{task_id}/restructure")
def restructure_document(
    request: Request,
    task_id: str,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(changing(Can.CORRECT))],
    kind: Annotated[str, Form()],
    token: Annotated[str, Form()],
    why: Annotated[str, Form()] = "",
    at_page: Annotated[int | None, Form()] = None,
    form_id: Annotated[str, Form()] = "",
) -> Response:
    work = held(state, viewer, task_id, token)
    if kind not in ("split", "merge", "retype"):
        return task_page_response(request, work, {-1: f"unknown change {kind!r}"}, 422)
    if not why.strip():
        return task_page_response(request, work, {-1: f"say why the document needs a {kind}"}, 422)
    change = Change(kind=kind, at_page=at_page, form_id=form_id or None)
    try:
        made = restructure(state, work, change, why.strip(), now())
    except RestructureError as e:
        return task_page_response(request, work, {-1: str(e)}, 422)
    said = {"split": f"Split into {len(made)} documents", "merge": "Merged", "retype": "Form type changed"}[kind]
    message = f"{said}: " + ", ".join(f"pages {d.first_page}–{d.last_page} {d.form_title or '?'}" for d in made)
    return RedirectResponse(f"/tasks/{task_id}?message={quote(message)}", status_code=303)
