"""Accounts (admin) and the audit trail (admin, archivist): every change of a role or an account is audited."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from pipeline.errors import StoreConflictError
from pipeline.store.engine import mask_url
from review.audit_log import audit
from review.deps import changing, now, require
from review.pages import render
from review.security import hash_password
from review.state import AppState, app_state
from review.views import shown_text
from schemas.access import Can, Role, User, Viewer

router = APIRouter()
AUDIT_PAGE = 200


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(require(Can.MANAGE_USERS))],
) -> Response:
    audit(state, viewer, "view_users")
    return render(state, request, "users.html", viewer, users=state.accounts.users(), roles=list(Role), error=None)


@router.post("/admin/users")
def add_user(
    request: Request,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(changing(Can.MANAGE_USERS))],
    username: Annotated[str, Form()],
    display_name: Annotated[str, Form()],
    role: Annotated[Role, Form()],
    password: Annotated[str, Form()],
    id_number: Annotated[str, Form()] = "",
) -> Response:
    try:
        user = User(
            username=username, display_name=display_name, role=role, id_number=id_number or None, created_at=now()
        )
        state.accounts.add_user(user, hash_password(password))
    except (ValueError, StoreConflictError) as e:
        message = e.message if isinstance(e, StoreConflictError) else str(e)
        return render(
            state, request, "users.html", viewer, status_code=400,
            users=state.accounts.users(), roles=list(Role), error=message,
        )  # fmt: skip
    audit(state, viewer, "user_add", field="role", new=role.value, why=f"account {username}")
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}")
def change_user(
    username: str,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(changing(Can.MANAGE_USERS))],
    role: Annotated[Role | None, Form()] = None,
    active: Annotated[str | None, Form()] = None,
) -> Response:
    before = state.accounts.get_user(username)
    if before is None:
        raise HTTPException(status_code=404, detail=f"no user {username}")
    if username == viewer.username and (active == "no" or (role is not None and role is not Role.ADMIN)):
        raise HTTPException(status_code=400, detail="an administrator cannot disable or demote their own account")
    enable = None if active is None else active == "yes"
    state.accounts.update_user(username, now(), active=enable, role=role)
    if role is not None and role is not before.role:
        audit(
            state, viewer, "role_change", field="role", old=before.role.value, new=role.value, why=f"account {username}"
        )
    if enable is not None and enable != before.active:
        audit(state, viewer, "user_enable" if enable else "user_disable", why=f"account {username}")
    return RedirectResponse("/admin/users", status_code=303)


def _settings_rows(value: object, prefix: str = "") -> list[tuple[str, str]]:
    """Every setting as a (dotted name, value) row; URLs with their passwords hidden."""
    if isinstance(value, dict):
        return [row for k, v in value.items() for row in _settings_rows(v, f"{prefix}{k}.")]
    name = prefix.rstrip(".")
    text = str(value)
    return [(name, mask_url(text) if name.endswith("_url") and "://" in text else text)]


@router.get("/admin/settings", response_class=HTMLResponse)
def settings_page(
    request: Request,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(require(Can.MANAGE_USERS))],
) -> Response:
    """The settings in force (environment and settings file): read-only here, changed where they are set."""
    audit(state, viewer, "view_settings")
    rows = _settings_rows(state.settings.model_dump(mode="json"))
    rows.append(("database_url (in force)", mask_url(state.settings.database_url)))
    return render(state, request, "settings.html", viewer, rows=rows)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(require(Can.VIEW_AUDIT))],
    record_id: str | None = None,
) -> Response:
    events = state.store.audit_events(record_id=record_id or None)[-AUDIT_PAGE:][::-1]
    report = state.store.verify_audit()
    audit(state, viewer, "view_audit", record_id=record_id or None)
    shown = [
        e.model_copy(update={"old": shown_text(viewer, e.old or ""), "new": shown_text(viewer, e.new or "")})
        for e in events
    ]
    return render(state, request, "audit.html", viewer, events=shown, report=report)


@router.get("/audit/export")
def audit_export(
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(require(Can.VIEW_AUDIT))],
) -> Response:
    events = state.store.audit_events()
    audit(state, viewer, "export_audit", why=f"{len(events)} event(s)")

    def lines() -> Iterator[str]:
        for e in events:
            data = e.model_dump(mode="json")
            data["old"], data["new"] = shown_text(viewer, e.old or "") or None, shown_text(viewer, e.new or "") or None
            yield json.dumps(data, ensure_ascii=False) + "\n"

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="audit.jsonl"'},
    )
