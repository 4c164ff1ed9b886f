"""Group verification pages: pick a field (and batch), take a screenful of tasks that flag it, clear them.

Keyboard only (static/app.js): Enter confirms and moves on, typing corrects, Tab goes to the next
item not yet confirmed, Alt+A confirms every item that passes its check, Alt+N saves and takes the
next screenful, Alt+S saves, Alt+G gives the screen back untouched.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from review.audit_log import audit
from review.deps import changing, now, require
from review.group import GroupEntry, group_items, save_group
from review.pages import render
from review.state import AppState, app_state
from schemas.access import Can, Viewer

router = APIRouter()
SCREEN = 24


def _here(key: str, batch: str, **extra: str) -> str:
    query = {k: v for k, v in {"batch": batch, **extra}.items() if v}
    return f"/group/{key}" + (f"?{urlencode(query)}" if query else "")


@router.get("/group", response_class=HTMLResponse)
def group_picker(
    request: Request,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(require(Can.REVIEW))],
    batch: str = "",
    message: str = "",
) -> Response:
    waiting = state.groups.waiting_by_field(now(), batch or None)
    audit(state, viewer, "view_group_queue", why=f"batch {batch or 'all'}: {sum(waiting.values())} flagged field(s)")
    return render(state, request, "group_pick.html", viewer, waiting=waiting, batch=batch, message=message)


@router.post("/group/claim")
def group_claim(
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(changing(Can.REVIEW))],
    key: Annotated[str, Form()],
    batch: Annotated[str, Form()] = "",
) -> Response:
    return _claim(state, viewer, key, batch)


def _claim(state: AppState, viewer: Viewer, key: str, batch: str) -> Response:
    ttl = timedelta(minutes=state.settings.review.lease_minutes)
    leases = state.groups.claim(viewer.username, key, now(), ttl, batch or None, SCREEN)
    if not leases:
        return RedirectResponse(
            "/group?" + urlencode({"batch": batch, "message": f"No task flags {key} now."}), status_code=303
        )
    audit(state, viewer, "claim_group", field=key, why=f"{len(leases)} task(s): {' '.join(x.task_id for x in leases)}")
    return RedirectResponse(_here(key, batch), status_code=303)


@router.get("/group/{key}", response_class=HTMLResponse)
def group_page(
    request: Request,
    key: str,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(require(Can.REVIEW))],
    batch: str = "",
    message: str = "",
) -> Response:
    items = group_items(state, state.groups.held(viewer.username, key, now()), key)
    if not items:
        return RedirectResponse("/group?" + urlencode({"batch": batch, "message": message}), status_code=303)
    audit(state, viewer, "view_group", field=key, why=f"{len(items)} item(s): {' '.join(i.task_id for i in items)}")
    return render(
        state, request, "group.html", viewer, key=key, batch=batch, items=items, message=message, errors={},
        label=items[0].label,
    )  # fmt: skip


@router.post("/group/{key}")
async def group_save(
    request: Request,
    key: str,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(changing(Can.CORRECT))],
) -> Response:
    form = await request.form()
    action = str(form.get("action", "save"))
    batch = str(form.get("batch", ""))
    count = int(str(form.get("count", "0")) or 0)
    if not 0 <= count <= 200:
        raise HTTPException(status_code=422, detail="bad request: count")
    entries = []
    for i in range(count):
        if f"t{i}" not in form:
            continue
        entries.append(
            GroupEntry(
                task_id=str(form[f"t{i}"]), token=str(form.get(f"k{i}", "")), version=str(form.get(f"ver{i}", "")),
                position=int(str(form.get(f"p{i}", "-1"))), value=str(form.get(f"v{i}", "")),
                reviewed=action != "give_back" and str(form.get(f"m{i}", "")) in ("confirmed", "corrected"),
                reason=str(form.get(f"r{i}", "")).strip() or None, evidence=str(form.get(f"e{i}", "")).strip() or None,
            )
        )  # fmt: skip
    out = save_group(state, viewer, key, entries, now())
    summary = (
        f"{out.confirmed} confirmed, {out.corrected} corrected, {out.released} released, {out.given_back} given back"
    )
    if out.errors:
        items = group_items(state, state.groups.held(viewer.username, key, now()), key)
        return render(
            state, request, "group.html", viewer, status_code=422, key=key, batch=batch, items=items,
            message=summary, errors=out.errors, label=items[0].label if items else key,
        )  # fmt: skip
    if action == "save_next":
        return _claim(state, viewer, key, batch)
    return RedirectResponse("/group?" + urlencode({"batch": batch, "message": summary}), status_code=303)
