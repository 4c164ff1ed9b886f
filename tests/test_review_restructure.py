"""A reviewer splits a wrongly joined document, merges it back, changes its form type: the documents are
re-made from the stored pages (classified, extracted, decided), tasks and records follow, all audited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from fastapi.testclient import TestClient

from pipeline.identity import doc_id_for
from pipeline.search import open_search
from pipeline.store import CatalogueStore, open_store
from review.app import create_app
from schemas.models import QcTask
from tests.review_client import log_in
from tests.review_world import ID_C, ID_D, JOINED_DOC, JOINED_FILE, T0, World, add_joined_file, build_world

Setup = tuple[TestClient, CatalogueStore, World, str]
SECOND = doc_id_for(JOINED_FILE, 3)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    store = open_store(url)
    try:
        world = build_world(store, tmp_path, url)
        task = add_joined_file(store, tmp_path, with_record=True)
        with TestClient(create_app(world.settings, open_store(url)), base_url="https://testserver") as client:
            yield client, store, world, task
    finally:
        store.close()


def _token(html: str) -> str:
    m = re.search(r'name="token" value="([^"]+)"', html)
    assert m
    return m.group(1)


def _take(client: TestClient, task: str) -> tuple[str, str]:
    csrf = log_in(client, "reviewer")
    r = client.post("/queue/next", data={"csrf": csrf}, follow_redirects=False)
    assert r.headers["location"] == f"/tasks/{task}"
    return csrf, _token(client.get(r.headers["location"]).text)


def _change(client: TestClient, task: str, csrf: str, token: str, **data: str) -> object:
    return client.post(
        f"/tasks/{task}/restructure", data={"csrf": csrf, "token": token, **data}, follow_redirects=False
    )


def _file_docs(store: CatalogueStore) -> list[tuple[str, int, int, str | None]]:
    docs = sorted((d for d in store.documents() if d.file_id == JOINED_FILE), key=lambda d: d.first_page)
    return [(d.doc_id, d.first_page, d.last_page, d.classification.label if d.classification else None) for d in docs]


def test_split_a_wrongly_joined_document(setup: Setup) -> None:
    client, store, world, task = setup
    csrf, token = _take(client, task)
    before = store.record_for_doc(JOINED_DOC)
    assert before is not None and before.pdfa_path
    r = _change(client, task, csrf, token, kind="split", at_page="3", why="两份登记表扫在一起")
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    page = client.get(r.headers["location"]).text  # type: ignore[attr-defined]
    assert "Split into 2 documents" in page and "pages 3–3 个人注册登记表" in page
    assert _file_docs(store) == [
        (JOINED_DOC, 1, 2, "personal_registration"),
        (SECOND, 3, 3, "personal_registration"),
    ]
    second = store.get_document(SECOND)
    assert second is not None
    fields = {f.key: f.normalized for f in second.fields}
    assert fields["name"] == "赵六" and fields["id_number"] == ID_D
    # The held task stays the reviewer's; the new document, if in review, waits in the queue with its own task.
    tasks = {t.doc_id: t for t in store.qc_tasks()}
    assert tasks[JOINED_DOC].status == "claimed" and tasks[JOINED_DOC].claimed_by == "reviewer"
    if second.status.value == "review":
        assert tasks[SECOND].status == "open"
    event = next(e for e in store.audit_events() if e.action == "split")
    assert (event.actor, event.doc_id, event.field, event.why) == (
        "reviewer",
        JOINED_DOC,
        "pages",
        "两份登记表扫在一起",
    )
    assert event.old == "p1-3 personal_registration"
    assert event.new == "p1-2 personal_registration + p3-3 personal_registration"
    # Records follow: the first keeps its number with a two-page PDF/A, the second is numbered and archived.
    first_record, second_record = store.record_for_doc(JOINED_DOC), store.record_for_doc(SECOND)
    assert first_record is not None and second_record is not None
    assert first_record.archive_no == before.archive_no and first_record.sha256 != before.sha256
    assert second_record.person_id == ID_D and second_record.archive_no != first_record.archive_no
    with pikepdf.open(str(first_record.pdfa_path)) as pdf:
        assert len(pdf.pages) == 2
    with pikepdf.open(str(second_record.pdfa_path)) as pdf:
        assert len(pdf.pages) == 1
    index = open_search(world.settings)
    try:
        assert [h.record_id for h in index.search(None, id_number=ID_D)] == [second_record.record_id]
    finally:
        index.close()
    assert store.verify_audit().intact


def test_merge_back_and_the_second_record_goes_with_its_file(setup: Setup) -> None:
    client, store, world, task = setup
    csrf, token = _take(client, task)
    _change(client, task, csrf, token, kind="split", at_page="3", why="看错了")
    token = _token(client.get(f"/tasks/{task}").text)
    second_record = store.record_for_doc(SECOND)
    assert second_record is not None and Path(str(second_record.pdfa_path)).is_file()
    r = _change(client, task, csrf, token, kind="merge", why="第三页是同一件的续页")
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    assert _file_docs(store) == [(JOINED_DOC, 1, 3, "personal_registration")]
    assert SECOND not in {t.doc_id for t in store.qc_tasks()}
    assert store.record_for_doc(SECOND) is None and not Path(str(second_record.pdfa_path)).exists()
    record = store.record_for_doc(JOINED_DOC)
    assert record is not None
    with pikepdf.open(str(record.pdfa_path)) as pdf:
        assert len(pdf.pages) == 3
    actions = [e.action for e in store.audit_events()]
    assert "merge" in actions and "pdfa_removed" in actions
    index = open_search(world.settings)
    try:
        assert index.search(None, id_number=ID_D) == [] or all(
            h.record_id != second_record.record_id for h in index.search(None, id_number=ID_D)
        )
    finally:
        index.close()


def test_change_the_form_type(setup: Setup) -> None:
    client, store, _, task = setup
    csrf, token = _take(client, task)
    r = _change(client, task, csrf, token, kind="retype", form_id="yl-cbdj", why="x")
    assert r.status_code == 422 and "no main form yl-cbdj in the registry" in r.text  # type: ignore[attr-defined]
    page = client.get(f"/tasks/{task}").text
    other = next(fid for fid in re.findall(r'<option value="([^"]+)"', page) if fid != "personal_registration")
    r = _change(client, task, csrf, token, kind="retype", form_id=other, why="表头识别错误")
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    doc = store.get_document(JOINED_DOC)
    assert doc is not None and doc.classification is not None
    assert doc.classification.label == other and doc.classification.model_version == "reviewer:reviewer"
    event = next(e for e in store.audit_events() if e.action == "retype")
    assert (event.field, event.old, event.new) == ("form", "p1-3 personal_registration", f"p1-3 {other}")


def test_impossible_changes_are_refused_and_write_nothing(setup: Setup) -> None:
    client, store, _, task = setup
    csrf, token = _take(client, task)
    before = len(store.audit_events())
    for data, says in (
        ({"kind": "split", "at_page": "1", "why": "x"}, "page 2 to 3"),
        ({"kind": "split", "at_page": "4", "why": "x"}, "page 2 to 3"),
        ({"kind": "merge", "why": "x"}, "nothing to merge with"),
        ({"kind": "split", "at_page": "2"}, "say why"),
    ):
        r = _change(client, task, csrf, token, **data)
        assert r.status_code == 422 and says in r.text, data  # type: ignore[attr-defined]
    r = _change(client, task, csrf, "stale-token", kind="split", at_page="2", why="x")
    assert r.status_code == 409  # type: ignore[attr-defined]
    assert _file_docs(store) == [(JOINED_DOC, 1, 3, "personal_registration")]
    assert len(store.audit_events()) == before


def test_merge_waits_while_someone_else_reviews_the_next_document(setup: Setup) -> None:
    client, store, _, task = setup
    csrf, token = _take(client, task)
    _change(client, task, csrf, token, kind="split", at_page="3", why="两份")
    if not any(t.doc_id == SECOND for t in store.qc_tasks()):
        # Accepted straight through: drawn for the audit sample, say, so someone reviews it all the same.
        store.upsert_qc_task(QcTask(task_id=f"q{SECOND}", doc_id=SECOND, reasons=["audit sample"], audit_sample=True,
                                    created_at=T0))  # fmt: skip
    other = TestClient(client.app, base_url="https://testserver")
    other_csrf = log_in(other, "archivist")
    r = other.post("/queue/next", data={"csrf": other_csrf}, follow_redirects=False)
    assert r.headers["location"] == f"/tasks/q{SECOND}"
    token = _token(client.get(f"/tasks/{task}").text)
    r = _change(client, task, csrf, token, kind="merge", why="续页")
    assert r.status_code == 422 and "being reviewed by archivist" in r.text  # type: ignore[attr-defined]
    assert ID_C  # the first document's person is untouched
