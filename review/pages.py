"""Rendering a page: the template, the viewer and their CSRF token, and the security headers."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from review.state import AppState
from schemas.access import Can, Viewer

# No inline script, no third-party anything: the only script is our own /static/app.js.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def render(
    state: AppState,
    request: Request,
    name: str,
    viewer: Viewer | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    session = getattr(request.state, "session", None)
    context.update(
        viewer=viewer,
        csrf=session.csrf_token if session is not None else "",
        Can=Can,
    )
    return state.templates.TemplateResponse(request, name, context, status_code=status_code)
