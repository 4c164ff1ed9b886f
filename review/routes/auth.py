"""Log in and out: argon2 passwords, throttled failures, a fresh session token and CSRF token each time."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from review.audit_log import audit
from review.deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    client_address,
    csrf_checked,
    now,
)
from review.pages import render
from review.security import new_token, same_token, token_hash, verify_password
from review.state import AppState, app_state
from schemas.access import Viewer

router = APIRouter()


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never an open redirect to another host.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, state: Annotated[AppState, Depends(app_state)], next: str = "/") -> Response:
    token = new_token()
    response = render(state, request, "login.html", None, csrf_login=token, next=_safe_next(next), error=None)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, secure=state.settings.review.secure_cookies, samesite="strict"
    )
    return response


@router.post("/login")
def login(
    request: Request,
    state: Annotated[AppState, Depends(app_state)],
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    if not same_token(csrf, request.cookies.get(LOGIN_CSRF_COOKIE)):
        raise HTTPException(status_code=403, detail="the login form is stale; reload it")
    cfg = state.settings.review
    client = client_address(request)
    at = now()
    by_user, by_client = state.accounts.login_failures(
        username, client, at - timedelta(minutes=cfg.login_window_minutes)
    )
    if max(by_user, by_client) >= cfg.login_max_failures:
        audit(state, None, "login_throttled", actor=username, client=client)
        raise HTTPException(
            status_code=429,
            detail=f"too many failed logins; try again in {cfg.login_window_minutes} minutes or ask an administrator",
        )
    user = state.accounts.get_user(username)
    if user is None or not user.active or not verify_password(state.accounts.password_hash(username), password):
        state.accounts.record_login_failure(username, client, at)
        audit(state, None, "login_failed", actor=username, client=client)
        return render(
            state, request, "login.html", None, status_code=401,
            csrf_login=csrf, next=_safe_next(next), error="wrong name or password, or the account is disabled",
        )  # fmt: skip
    state.accounts.clear_login_failures(username)
    token = new_token()
    state.accounts.open_session(
        token_hash(token), username, new_token(), client, at, timedelta(hours=cfg.session_max_hours)
    )
    audit(state, None, "login", actor=username, client=client, why=f"role {user.role.value}")
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        secure=cfg.secure_cookies,
        samesite="lax",
        max_age=cfg.session_max_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(
    request: Request,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(csrf_checked)],
) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    state.accounts.close_session(token_hash(token))
    audit(state, viewer, "logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
