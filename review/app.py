"""The QC review web application: `dangan serve` (SQLite) or the compose `review` service (PostgreSQL).

Run by uvicorn as a factory: `uvicorn review.app:create_app --factory`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.search import open_search
from pipeline.settings import Settings, get_settings
from pipeline.store import CatalogueStore, open_store
from pipeline.store.accounts import AccountStore
from pipeline.store.leases import LeaseStore
from pipeline.store.lending import LendingStore
from pipeline.store.record_access import RecordAccess
from pipeline.store.review_group import GroupLeases
from pipeline.store.review_save import ReviewSaver
from review.deps import NotLoggedInError, current_viewer
from review.pages import SECURITY_HEADERS, render
from review.routes import admin, auth, dashboard, group, lending, records, restructure, tasks
from review.state import HERE, AppState, app_state
from schemas.access import Viewer

log = logging.getLogger(__name__)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def build_state(settings: Settings, store: CatalogueStore | None = None) -> AppState:
    store = store or open_store(settings.database_url)
    return AppState(
        settings=settings,
        store=store,
        accounts=AccountStore(store.engine),
        records=RecordAccess(store.engine),
        leases=LeaseStore(store.engine),
        groups=GroupLeases(store.engine),
        lending=LendingStore(store.engine),
        saver=ReviewSaver(store.engine),
        search=open_search(settings),
        templates=Jinja2Templates(directory=HERE / "templates"),
    )


def create_app(settings: Settings | None = None, store: CatalogueStore | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state: AppState = app.state.dangan
        state.search.close()
        state.store.close()

    app = FastAPI(title="Dangan review", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.dangan = build_state(settings, store)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in (
        auth.router,
        records.router,
        admin.router,
        tasks.router,
        group.router,
        restructure.router,
        lending.router,
        dashboard.router,
    ):
        app.include_router(router)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    @app.exception_handler(NotLoggedInError)
    async def not_logged_in(request: Request, _exc: NotLoggedInError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "log in first"}, status_code=401)
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        state: AppState = request.app.state.dangan
        return render(state, request, "error.html", None, status_code=exc.status_code, message=str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return await http_error(request, HTTPException(status_code=422, detail=f"bad request: {where}"))

    @app.get("/", response_class=HTMLResponse)
    def home(
        request: Request,
        state: Annotated[AppState, Depends(app_state)],
        viewer: Annotated[Viewer, Depends(current_viewer)],
    ) -> Response:
        return render(state, request, "home.html", viewer)

    return app
