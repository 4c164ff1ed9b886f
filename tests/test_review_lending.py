"""Lending (借阅/复制) as the seeds describe it: a request on a record, approved by someone other than the
person who filed it, a copy only after approval and while it holds, a loan registered back; all audited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipeline.search.base import mask_id
from pipeline.store import CatalogueStore, open_store
from review.app import create_app
from tests.review_client import log_in
from tests.review_world import ID_A, build_world

Clients = tuple[TestClient, TestClient, CatalogueStore, str, str]


@pytest.fixture
def clients(tmp_path: Path) -> Iterator[Clients]:
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    store = open_store(url)
    try:
        world = build_world(store, tmp_path, url)
        with TestClient(create_app(world.settings, open_store(url)), base_url="https://testserver") as counter:
            archivist = TestClient(counter.app, base_url="https://testserver")
            yield counter, archivist, store, log_in(counter, "counter"), log_in(archivist, "archivist")
    finally:
        store.close()


def _file(client: TestClient, csrf: str, **data: str) -> str:
    form = {"csrf": csrf, "kind": "复制", "applicant": "张三", "applicant_id": ID_A, "purpose": "待遇核定"} | data
    r = client.post("/records/ra1/lend", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    m = re.search(r"Request\+(L[0-9a-f]+)\+filed", r.headers["location"])
    assert m
    return m.group(1)


def test_a_copy_needs_an_approval_from_someone_else(clients: Clients) -> None:
    counter, archivist, store, c_csrf, a_csrf = clients
    assert counter.get("/records/ra1/pdf").status_code == 403
    request_id = _file(counter, c_csrf)
    assert counter.get("/records/ra1/pdf").status_code == 403  # filed, not approved
    # Counter staff may not decide; the register shows them their own request, the applicant's number masked.
    r = counter.post(
        f"/lending/{request_id}/decide", data={"csrf": c_csrf, "decision": "approve", "until": "2099-01-01"}
    )
    assert r.status_code == 403
    mine = counter.get("/lending").text
    assert request_id in mine and ID_A not in mine and mask_id(ID_A) in mine
    r = archivist.post(
        f"/lending/{request_id}/decide",
        data={"csrf": a_csrf, "decision": "approve", "until": "2099-01-01", "note": "负责人同意"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "copy approved until 2099-01-01" in counter.get("/records/ra1").text
    pdf = counter.get("/records/ra1/pdf")
    assert pdf.status_code == 200 and b"A's record" in pdf.content
    events = {e.action: e for e in store.audit_events()}
    assert events["lend_request"].actor == "counter" and events["lend_request"].new == request_id
    assert events["lend_request"].why == "张三: 待遇核定" and events["lend_request"].field == "复制"
    assert events["lend_approve"].actor == "archivist" and "until 2099-01-01" in str(events["lend_approve"].why)
    assert events["download"].why is not None and request_id in events["download"].why
    # The approval is for the person who filed it and that record only.
    assert counter.get("/records/ra2/pdf").status_code in (403, 404)
    assert store.verify_audit().intact


def test_no_one_decides_their_own_request_and_a_decision_is_final(clients: Clients) -> None:
    counter, archivist, store, c_csrf, a_csrf = clients
    own = _file(archivist, a_csrf, kind="查阅")
    before = len(store.audit_events())
    r = archivist.post(f"/lending/{own}/decide", data={"csrf": a_csrf, "decision": "approve", "until": "2099-01-01"})
    assert r.status_code == 409 and "someone other than the person who filed it" in r.text
    assert len(store.audit_events()) == before
    theirs = _file(counter, c_csrf)
    archivist.post(f"/lending/{theirs}/decide", data={"csrf": a_csrf, "decision": "refuse", "note": "用途不明"})
    r = archivist.post(f"/lending/{theirs}/decide", data={"csrf": a_csrf, "decision": "approve", "until": "2099-01-01"})
    assert r.status_code == 409 and "already refused by archivist" in r.text
    assert counter.get("/records/ra1/pdf").status_code == 403
    assert archivist.post("/lending/Lnone/decide", data={"csrf": a_csrf, "decision": "refuse"}).status_code == 404


def test_an_approval_that_ran_out_allows_no_copy(clients: Clients) -> None:
    counter, archivist, _, c_csrf, a_csrf = clients
    request_id = _file(counter, c_csrf)
    archivist.post(f"/lending/{request_id}/decide", data={"csrf": a_csrf, "decision": "approve", "until": "2020-01-01"})
    assert counter.get("/records/ra1/pdf").status_code == 403


def test_lending_the_paper_out_needs_a_due_date_and_is_registered_back(clients: Clients) -> None:
    counter, archivist, store, c_csrf, a_csrf = clients
    r = counter.post(
        "/records/ra1/lend",
        data={"csrf": c_csrf, "kind": "借出", "applicant": "张三", "purpose": "劳动仲裁"},
    )
    assert r.status_code == 422 and "due back" in r.text
    request_id = _file(counter, c_csrf, kind="借出", purpose="劳动仲裁", until="2020-02-01")
    archivist.post(f"/lending/{request_id}/decide", data={"csrf": a_csrf, "decision": "approve"})
    register = archivist.get("/lending").text
    assert re.search(rf'id="req-{request_id}" class="approved overdue"', register)
    assert "Register return" in register
    # A loan is of the paper: it never opens the PDF/A to counter staff.
    assert counter.get("/records/ra1/pdf").status_code == 403
    r = archivist.post(f"/lending/{request_id}/return", data={"csrf": a_csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert archivist.post(f"/lending/{request_id}/return", data={"csrf": a_csrf}).status_code == 409
    actions = [e.action for e in store.audit_events() if e.new == request_id]
    assert actions == ["lend_request", "lend_approve", "lend_return"]
    assert re.search(rf'id="req-{request_id}" class="returned"', archivist.get("/lending").text)
