"""The review application's doors: accounts, sessions, CSRF, throttling, and what each role may reach.

Leak tests: for every role and every route, what the role may not see answers 403/404 and writes
nothing (no audit entry, no change); an insured person never sees another person's record, through
a page, a search snippet or a download.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pipeline.search.base import mask_id
from pipeline.store import CatalogueStore, open_store
from pipeline.store.access_tables import SessionRow, UserRow
from pipeline.store.engine import transaction
from pipeline.store.tables import AuditEventRow, QcTaskRow
from review.app import create_app
from tests.review_client import csrf_of, log_in
from tests.review_world import ID_A, ID_B, ROLES, add_review_tasks, build_world


@pytest.fixture
def world_store(tmp_path: Path) -> Iterator[tuple[CatalogueStore, Path, str]]:
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    store = open_store(url)
    try:
        yield store, tmp_path, url
    finally:
        store.close()


@pytest.fixture
def app_store(world_store: tuple[CatalogueStore, Path, str]) -> Iterator[tuple[TestClient, CatalogueStore]]:
    store, home, url = world_store
    world = build_world(store, home, url)
    add_review_tasks(store, home, 1)
    with TestClient(create_app(world.settings, open_store(url)), base_url="https://testserver") as client:
        yield client, store


def _writes(store: CatalogueStore) -> tuple[int, int, int, int]:
    """What a request could have written: audit entries, sessions, the accounts' state."""
    with transaction(store.engine, "count", write=False) as s:
        audit = s.scalar(select(func.count()).select_from(AuditEventRow)) or 0
        sessions = s.scalar(select(func.count()).select_from(SessionRow)) or 0
        users = hash(tuple(s.execute(select(UserRow.username, UserRow.role, UserRow.active)).all()))
        tasks = hash(tuple(s.execute(select(QcTaskRow.task_id, QcTaskRow.status, QcTaskRow.claimed_by)).all()))
    return audit, sessions, users, tasks


# Every page and API route, with the roles allowed through. Paths name records of person B
# (rb1) and A (ra1): the insured account is person A.
READS = [
    ("/search?q=张三", {"archivist", "counter", "insured"}),
    ("/records/rb1", {"archivist", "counter"}),
    ("/records/rb1/pdf", {"archivist"}),
    (f"/people/{ID_B}", {"archivist", "counter"}),
    ("/records/ra1", {"archivist", "counter", "insured"}),
    ("/records/ra1/pdf", {"archivist", "insured"}),  # counter staff: only under an approved 复制 request
    ("/records/ra1/lend", {"archivist", "counter"}),
    ("/lending", {"archivist", "counter"}),
    (f"/people/{ID_A}", {"archivist", "counter", "insured"}),
    ("/admin/users", {"admin"}),
    ("/admin/settings", {"admin"}),
    ("/dashboard", {"archivist", "reviewer"}),
    ("/corrections/export", {"archivist"}),
    ("/audit", {"admin", "archivist"}),
    ("/audit/export", {"admin", "archivist"}),
    ("/queue", {"archivist", "reviewer"}),
    ("/group", {"archivist", "reviewer"}),
]
# Review work: held under a lease, so even an allowed role gets 409 without one; the others 403.
TASK = "t-dq000"
REVIEW_READS = [f"/tasks/{TASK}", f"/tasks/{TASK}/crop/0", f"/tasks/{TASK}/page/1"]
REVIEWERS = {"archivist", "reviewer"}
CHANGES = [
    ("/queue/next", {}, REVIEWERS),
    (f"/tasks/{TASK}", {"action": "save", "v0": "x"}, REVIEWERS),
    (f"/tasks/{TASK}", {"action": "postpone"}, REVIEWERS),
    (f"/tasks/{TASK}/heartbeat", {}, REVIEWERS),
    ("/api/check", {"key": "name", "value": "x"}, REVIEWERS),
    ("/group/claim", {"key": "id_number"}, REVIEWERS),
    (f"/tasks/{TASK}/restructure", {"kind": "split", "at_page": "2", "why": "x", "token": "x"}, REVIEWERS),
    ("/group/id_number", {"count": "1", "t0": TASK, "m0": "confirmed", "v0": "x"}, REVIEWERS),
    ("/records/ra1/lend", {"kind": "复制", "applicant": "张三", "purpose": "x"}, {"archivist", "counter"}),
    ("/lending/L000000000000/decide", {"decision": "approve", "until": "2030-01-01"}, {"archivist"}),
    ("/lending/L000000000000/return", {}, {"archivist"}),
    ("/admin/users", {"username": "mallory", "display_name": "M", "role": "admin", "password": "x" * 12}, {"admin"}),
    ("/admin/users/reviewer", {"role": "admin"}, {"admin"}),
    ("/admin/users/counter", {"active": "no"}, {"admin"}),
]


@pytest.mark.parametrize("role", list(ROLES))
def test_every_role_is_refused_what_it_may_not_see_and_nothing_is_written(
    app_store: tuple[TestClient, CatalogueStore], role: str
) -> None:
    client, store = app_store
    csrf = log_in(client, role)
    for path, allowed in READS:
        before = _writes(store)
        r = client.get(path, follow_redirects=False)
        if role in allowed:
            assert r.status_code == 200, (role, path, r.status_code)
            assert _writes(store)[0] == before[0] + 1, f"{role} {path}: a read must leave one audit entry"
        else:
            assert r.status_code in (403, 404), (role, path, r.status_code)
            assert _writes(store) == before, f"{role} {path}: a refused request wrote something"
            assert ID_B not in r.text
    for path in REVIEW_READS:
        before = _writes(store)
        r = client.get(path, follow_redirects=False)
        assert r.status_code == (409 if role in REVIEWERS else 403), (role, path, r.status_code)
        assert _writes(store) == before, f"{role} {path}: a refused request wrote something"
    for path, data, allowed in CHANGES:
        if role in allowed:
            continue
        before = _writes(store)
        r = client.post(path, data={**data, "csrf": csrf}, follow_redirects=False)
        assert r.status_code in (403, 404), (role, path, r.status_code)
        assert _writes(store) == before, f"{role} POST {path}: a refused change wrote something"


def test_an_insured_person_never_sees_another_persons_record(app_store: tuple[TestClient, CatalogueStore]) -> None:
    client, _ = app_store
    log_in(client, "insured")
    # The index finds B's record for 张三 and for A's own number (A is named on it); the page shows none of it.
    for query in ("张三", ID_A, "李四", ID_B, "参保登记表"):
        # What the person typed is echoed in the search box; the answer is everything after the form.
        page = client.get("/search", params={"q": query}).text.split("</form>", 2)[-1]
        assert "rb1" not in page and ID_B not in page and mask_id(ID_B) not in page and "李四" not in page, query
    page = client.get("/search", params={"q": "张三"}).text
    assert "/records/ra1" in page and "/records/ra2" in page
    # Another person's number in the ID box is ignored: an insured account only ever searches its own.
    assert "rb1" not in client.get("/search", params={"id_number": ID_B}).text
    assert client.get("/records/rb1").status_code == 404
    assert client.get("/records/rb1/pdf").status_code == 404
    assert client.get(f"/people/{ID_B}").status_code == 404
    own = client.get("/records/ra1/pdf")
    assert own.status_code == 200 and b"A's record" in own.content


def test_id_numbers_are_masked_for_counter_staff_and_shown_to_archivists(
    app_store: tuple[TestClient, CatalogueStore],
) -> None:
    client, _ = app_store
    log_in(client, "counter")
    page = client.get("/records/ra1").text
    assert ID_A not in page and mask_id(ID_A) in page
    search = client.get("/search", params={"id_number": ID_B}).text.split("</form>", 2)[-1]
    assert "/records/rb1" in search and ID_B not in search
    client.cookies.clear()
    log_in(client, "archivist")
    assert ID_A in client.get("/records/ra1").text


def test_pages_need_a_session_and_forms_need_the_csrf_token(app_store: tuple[TestClient, CatalogueStore]) -> None:
    client, store = app_store
    before = _writes(store)
    for path, _ in READS:
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert _writes(store) == before
    log_in(client, "admin")
    before = _writes(store)
    r = client.post("/admin/users/counter", data={"active": "no"}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text
    r = client.post("/admin/users/counter", data={"active": "no", "csrf": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    assert _writes(store) == before


def test_session_cookie_is_secure_http_only_and_logout_ends_it(app_store: tuple[TestClient, CatalogueStore]) -> None:
    client, _ = app_store
    form = client.get("/login")
    r = client.post("/login", data={"username": "counter", "password": "correct horse battery",
                                    "csrf": csrf_of(form.text)}, follow_redirects=False)  # fmt: skip
    cookie = r.headers["set-cookie"]
    assert "dangan_session=" in cookie and "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    assert "Content-Security-Policy" in client.get("/").headers
    client.post("/logout", data={"csrf": csrf_of(client.get("/").text)})
    assert client.get("/search", follow_redirects=False).status_code == 303


def test_login_is_throttled_after_repeated_failures(app_store: tuple[TestClient, CatalogueStore]) -> None:
    client, store = app_store
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        r = client.post("/login", data={"username": "archivist", "password": "wrong password", "csrf": token})
        assert r.status_code == 401
    r = client.post("/login", data={"username": "archivist", "password": "correct horse battery", "csrf": token})
    assert r.status_code == 429 and "too many failed logins" in r.text
    actions = [e.action for e in store.audit_events()]
    assert actions.count("login_failed") == 5 and actions[-1] == "login_throttled"
    assert all(e.client == "testclient" for e in store.audit_events())


def test_admin_changes_a_role_and_disables_an_account_and_both_are_audited(
    app_store: tuple[TestClient, CatalogueStore],
) -> None:
    client, store = app_store
    reviewer = TestClient(client.app, base_url="https://testserver")
    log_in(reviewer, "reviewer")
    csrf = log_in(client, "admin")
    r = client.post("/admin/users/reviewer", data={"role": "counter", "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    # A role change ends the account's sessions: the old rights do not outlive it.
    assert reviewer.get("/", follow_redirects=False).status_code == 303
    client.post("/admin/users/counter", data={"active": "no", "csrf": csrf})
    change = next(e for e in store.audit_events() if e.action == "role_change")
    assert (change.actor, change.old, change.new, change.why) == ("admin", "reviewer", "counter", "account reviewer")
    assert any(e.action == "user_disable" and e.why == "account counter" for e in store.audit_events())
    r = client.post("/login", data={"username": "counter", "password": "correct horse battery",
                                    "csrf": csrf_of(client.get("/login").text)})  # fmt: skip
    assert r.status_code == 401
