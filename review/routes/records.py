"""Search, a record's page, one person's whole record, and the PDF/A download: every read is audited.

What a viewer may see is decided by `pipeline.store.record_access` queries; a record outside their
scope is answered 404 exactly like one that does not exist (`review.lookups.visible_record`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from review.audit_log import audit
from review.deps import now, require
from review.lookups import NOT_FOUND, Seen, visible_record
from review.pages import render
from review.state import AppState, app_state
from review.views import record_view, shown_id, shown_text
from schemas.access import Can, Role, Viewer
from schemas.models import ExtractedField

router = APIRouter()

SEARCH_LIMIT = 50


@router.get("/search", response_class=HTMLResponse)
def search(
    request: Request,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(require(Can.SEARCH))],
    q: str = "",
    id_number: str = "",
    form: str = "",
    year: int | None = None,
) -> Response:
    asked = bool(q.strip() or id_number.strip() or form.strip() or year)
    results = []
    if asked:
        own = viewer.user.id_number if viewer.role is Role.INSURED else None
        hits = state.search.search(
            q or None, id_number=own or id_number or None, form=form or None, year=year, limit=SEARCH_LIMIT
        )
        snippets = {h.record_id: h.snippet for h in hits}
        # The index answers for everyone; the catalogue query keeps only what this viewer may see.
        visible = state.records.visible(viewer, [h.record_id for h in hits])
        results = [record_view(viewer, r, snippets.get(r.record_id, "")) for r in visible]
        what = " ".join(
            p for p in (q, id_number and f"id:{id_number}", form and f"form:{form}", year and f"year:{year}") if p
        )
        audit(state, viewer, "search", why=f"{what} → {len(results)} record(s)")
    return render(
        state, request, "search.html", viewer, q=q, id_number=id_number, form=form, year=year or "",
        results=results, asked=asked,
    )  # fmt: skip


def _shown_value(viewer: Viewer, f: ExtractedField) -> str:
    value = f.normalized or f.value or ""
    return shown_id(viewer, value) if f.key == "id_number" else shown_text(viewer, value)


@router.get("/records/{record_id}", response_class=HTMLResponse)
def record_page(request: Request, seen: Annotated[Seen, Depends(visible_record(Can.VIEW_RECORD))]) -> Response:
    state, viewer, record, doc = seen.state, seen.viewer, seen.record, seen.doc
    audit(state, viewer, "view", record_id=record.record_id, doc_id=doc.doc_id)
    fields = [(f.label, _shown_value(viewer, f), f.status.value) for f in doc.fields]
    grant = None if viewer.can(Can.DOWNLOAD) else state.lending.copy_granted(viewer.username, record.record_id, now())
    return render(
        state, request, "record.html", viewer, record=record_view(viewer, record), full=record, doc=doc, fields=fields,
        history=state.store.audit_events(record_id=record.record_id) if viewer.can(Can.VIEW_AUDIT) else [],
        copy_grant=grant,
    )  # fmt: skip


@router.get("/records/{record_id}/pdf")
def record_pdf(seen: Annotated[Seen, Depends(visible_record(Can.VIEW_RECORD))]) -> Response:
    state, viewer, record = seen.state, seen.viewer, seen.record
    grant = None
    if not viewer.can(Can.DOWNLOAD):
        # Counter staff copy a record only under an approved 复制 request of their own (seeds: 须…签字同意后方可复印).
        grant = state.lending.copy_granted(viewer.username, record.record_id, now())
        if grant is None:
            raise HTTPException(
                status_code=403, detail="a copy needs an approved 复制 request; file one from the record"
            )
    if not record.pdfa_path:
        raise HTTPException(status_code=404, detail=NOT_FOUND)
    path = Path(str(record.pdfa_path))
    if not path.is_absolute():
        path = state.settings.home / path
    if not path.is_file():
        raise HTTPException(status_code=404, detail=f"the PDF/A of {record.archive_no} is missing from the archive")
    why = record.file_name if grant is None else f"{record.file_name} under 复制 request {grant.request_id}"
    audit(state, viewer, "download", record_id=record.record_id, doc_id=record.doc_id, why=why)
    name = shown_text(viewer, record.file_name or f"{record.archive_no}.pdf")
    return FileResponse(path, media_type="application/pdf", filename=name)


@router.get("/people/{person_id}", response_class=HTMLResponse)
def person_page(
    request: Request,
    person_id: str,
    state: Annotated[AppState, Depends(app_state)],
    viewer: Annotated[Viewer, Depends(require(Can.VIEW_RECORD))],
) -> Response:
    records = state.records.of_person(viewer, person_id)
    if not records:
        raise HTTPException(status_code=404, detail=NOT_FOUND)
    audit(state, viewer, "view_person", why=f"{len(records)} record(s) of {shown_id(viewer, person_id)}", new=person_id)
    return render(
        state, request, "person.html", viewer, person=shown_id(viewer, person_id),
        records=[record_view(viewer, r) for r in records],
    )  # fmt: skip
