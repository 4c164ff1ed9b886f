"""The review dashboard per batch, and the corrections download (labelled data for re-calibration)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from pipeline.store.review_save import ReviewSaver
from pipeline.store.review_stats import ReviewStats
from review.audit_log import audit
from review.deps import now, require
from review.labels import label_lines
from review.pages import render
from review.state import AppState, app_state
from schemas.access import Can, Viewer

router = APIRouter()


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(require(Can.DASHBOARD))],
    batch: str = "",
) -> Response:
    stats = ReviewStats(state.store.engine)
    at = now()
    board = stats.dashboard(batch or None, at)
    audit(state, viewer, "view_dashboard", why=f"batch {batch or 'all'}")
    return render(
        state, request, "dashboard.html", viewer, board=board, batches=stats.batches(), batch=batch, at=at,
        oldest_hours=board.oldest_waiting_hours(at),
    )  # fmt: skip


@router.get("/corrections/export")
def corrections_export(
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(require(Can.EXPORT_LABELS))],
    batch: str = "",
) -> Response:
    corrections = ReviewSaver(state.store.engine).corrections(batch or None)
    audit(state, viewer, "export_labels", why=f"{len(corrections)} reviewed field(s) of {batch or 'every batch'}")
    name = f"corrections-{batch or 'all'}.jsonl"
    return StreamingResponse(
        label_lines(corrections),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
