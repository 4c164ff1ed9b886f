"""Group verification: the same field of many documents on one screen, confirmed at once or fixed where
one is odd; each item saved with the task page's checks, corrections and audit entries."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipeline.store import CatalogueStore, open_store
from pipeline.store.review_group import GroupLeases
from review.app import create_app
from tests.review_client import log_in
from tests.review_world import GROUP_IDS, T0, add_group_tasks, build_world

COUNT = 6
ODD = 2
TWO_FLAGS = 4


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[TestClient, CatalogueStore, list[str]]]:
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    store = open_store(url)
    try:
        world = build_world(store, tmp_path, url)
        tasks = add_group_tasks(store, tmp_path, COUNT, odd=ODD, two_flags=TWO_FLAGS)
        with TestClient(create_app(world.settings, open_store(url)), base_url="https://testserver") as client:
            yield client, store, tasks
    finally:
        store.close()


def _grid(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html)) | dict(
        re.findall(r'<input class="v" name="(v\d+)" value="([^"]*)"', html)
    )


def test_the_picker_counts_tasks_per_flagged_field_and_a_claim_shows_a_grid_of_crops(
    setup: tuple[TestClient, CatalogueStore, list[str]],
) -> None:
    client, store, tasks = setup
    csrf = log_in(client, "reviewer")
    picker = client.get("/group").text
    assert re.search(r"<code>id_number</code></td><td>6</td>", picker)
    assert re.search(r"<code>name</code></td><td>1</td>", picker)
    r = client.post("/group/claim", data={"csrf": csrf, "key": "id_number"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/group/id_number"
    page = client.get("/group/id_number").text
    grid = _grid(page)
    assert grid["count"] == str(COUNT) and [grid[f"t{i}"] for i in range(COUNT)] == tasks
    assert grid["v0"] == GROUP_IDS[0] and grid[f"v{ODD}"] != GROUP_IDS[ODD]
    # The odd one is shown failing its check; each item has its crop, served under the group's leases.
    assert page.count('class="item bad"') == 1 and "GB 11643" in page
    for i in range(COUNT):
        crop = client.get(f"/tasks/{tasks[i]}/crop/0")
        assert crop.status_code == 200 and crop.content.startswith(b"\x89PNG")
    assert any(e.action == "claim_group" and e.field == "id_number" for e in store.audit_events())


def test_confirm_all_and_fix_the_odd_one_out(setup: tuple[TestClient, CatalogueStore, list[str]]) -> None:
    client, store, tasks = setup
    csrf = log_in(client, "reviewer")
    client.post("/group/claim", data={"csrf": csrf, "key": "id_number"})
    form = _grid(client.get("/group/id_number").text)
    for i in range(COUNT):
        form[f"m{i}"] = "confirmed"
    form[f"v{ODD}"], form[f"m{ODD}"], form[f"r{ODD}"] = GROUP_IDS[ODD], "corrected", "OCR misread one digit"
    r = client.post("/group/id_number", data={**form, "action": "save"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert "5+confirmed%2C+1+corrected%2C+5+released" in r.headers["location"]
    for i in range(COUNT):
        doc = store.get_document(f"dg{i:03d}")
        assert doc is not None and doc.fields[0].normalized == GROUP_IDS[i]
        assert doc.fields[0].status.value == ("corrected" if i == ODD else "confirmed")
        # Released when nothing else needed a look; the one with an uncertain name waits for the task page.
        assert doc.status.value == ("review" if i == TWO_FLAGS else "accepted"), i
    by_task = {t.task_id: t for t in store.qc_tasks()}
    assert by_task[tasks[TWO_FLAGS]].status == "open" and by_task[tasks[TWO_FLAGS]].fields == ["name"]
    assert all(by_task[t].status == "done" for i, t in enumerate(tasks) if i != TWO_FLAGS)
    events = [e for e in store.audit_events() if e.action in ("confirm", "correct")]
    assert len(events) == COUNT and sum(e.action == "correct" for e in events) == 1
    fixed = next(e for e in events if e.action == "correct")
    assert fixed.why is not None and "依据原件扫描件" in fixed.why and "OCR misread one digit" in fixed.why
    assert store.verify_audit().intact
    # The task page of the one given back asks about the name only.
    client.post("/queue/next", data={"csrf": csrf})
    page = client.get(f"/tasks/{tasks[TWO_FLAGS]}").text
    assert 'name="v1"' in page and 'name="v0"' not in page


def test_a_failing_value_is_not_saved_and_stays_on_the_screen(
    setup: tuple[TestClient, CatalogueStore, list[str]],
) -> None:
    client, store, tasks = setup
    csrf = log_in(client, "reviewer")
    client.post("/group/claim", data={"csrf": csrf, "key": "id_number"})
    form = _grid(client.get("/group/id_number").text)
    for i in range(COUNT):
        form[f"m{i}"] = "confirmed"  # the odd one too: the server checks, whatever the page said
    r = client.post("/group/id_number", data={**form, "action": "save_next"})
    assert r.status_code == 422 and "Not saved" in r.text and "GB 11643" in r.text
    assert _grid(r.text)["t0"] == tasks[ODD] and _grid(r.text)["count"] == "1"
    odd = store.get_document(f"dg{ODD:03d}")
    assert odd is not None and odd.status.value == "review" and odd.fields[0].status.value == "review"
    held = {t.task_id: t for t in store.qc_tasks()}[tasks[ODD]]
    assert held.status == "claimed" and held.claimed_by == "reviewer"


def test_untouched_items_go_back_to_the_queue(setup: tuple[TestClient, CatalogueStore, list[str]]) -> None:
    client, store, tasks = setup
    csrf = log_in(client, "reviewer")
    client.post("/group/claim", data={"csrf": csrf, "key": "id_number"})
    form = _grid(client.get("/group/id_number").text)
    r = client.post("/group/id_number", data={**form, "action": "give_back"}, follow_redirects=False)
    assert r.status_code == 303 and "6+given+back" in r.headers["location"]
    assert all(t.status == "open" and "id_number" in t.fields for t in store.qc_tasks() if t.task_id in tasks)


def test_concurrent_group_claims_never_share_a_task(setup: tuple[TestClient, CatalogueStore, list[str]]) -> None:
    _, store, tasks = setup
    groups = GroupLeases(store.engine)
    now = T0 + timedelta(days=1)
    got: dict[str, list[str]] = {}
    start = threading.Barrier(3)

    def reviewer(name: str) -> None:
        start.wait()
        got[name] = [x.task_id for x in groups.claim(name, "id_number", now, timedelta(minutes=5), limit=3)]

    threads = [threading.Thread(target=reviewer, args=(f"r{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [t for ids in got.values() for t in ids]
    assert len(claimed) == len(set(claimed)) == COUNT and set(claimed) == set(tasks)
    # A vanished group reviewer loses every task at expiry.
    later = now + timedelta(minutes=6)
    assert groups.held("r0", "id_number", later) == []
    assert len(groups.claim("r9", "id_number", later, timedelta(minutes=5), limit=10)) == COUNT
