"""Request dependencies: who is asking, may they, and is their form really from our page (CSRF)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from review.security import same_token, token_hash
from review.state import AppState, app_state
from schemas.access import Can, SessionInfo, Viewer

SESSION_COOKIE = "dangan_session"
LOGIN_CSRF_COOKIE = "dangan_login_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class NotLoggedInError(Exception):
    """No live session: a page sends the browser to the login form, an API call gets 401."""


def now() -> datetime:
    return datetime.now(UTC)


def client_address(request: Request) -> str:
    # Behind the TLS proxy uvicorn's --proxy-headers puts the real client here.
    return request.client.host if request.client else "unknown"


def current_viewer(request: Request, state: Annotated[AppState, Depends(app_state)]) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotLoggedInError
    idle = timedelta(minutes=state.settings.review.session_idle_minutes)
    found = state.accounts.session_user(token_hash(token), now(), idle)
    if found is None:
        raise NotLoggedInError
    user, info = found
    request.state.session = info
    return Viewer(user=user, client=client_address(request))


def session_info(request: Request) -> SessionInfo:
    info: SessionInfo = request.state.session
    return info


def require(what: Can) -> Callable[..., Viewer]:
    """A dependency giving the viewer when their role has `what`, else 403 (nothing read, nothing written)."""

    def check(viewer: Annotated[Viewer, Depends(current_viewer)]) -> Viewer:
        if not viewer.can(what):
            raise HTTPException(status_code=403, detail=f"your role ({viewer.role.value}) may not do this")
        return viewer

    return check


async def csrf_token_sent(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value: Any = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def csrf_checked(request: Request, viewer: Annotated[Viewer, Depends(current_viewer)]) -> Viewer:
    """Every state-changing request carries the session's CSRF token (form field or header)."""
    if not same_token(await csrf_token_sent(request), session_info(request).csrf_token):
        raise HTTPException(status_code=403, detail="the form is stale or not from this site (CSRF); reload the page")
    return viewer


def changing(what: Can) -> Callable[..., Any]:
    """CSRF-checked and allowed to `what`: the dependency of every POST route."""

    async def check(viewer: Annotated[Viewer, Depends(csrf_checked)]) -> Viewer:
        if not viewer.can(what):
            raise HTTPException(status_code=403, detail=f"your role ({viewer.role.value}) may not do this")
        return viewer

    return check
