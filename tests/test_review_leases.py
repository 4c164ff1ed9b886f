"""Leases on review tasks against real SQLite and PostgreSQL: concurrent reviewers never share a task,
a vanished reviewer loses it at expiry, postponed tasks wait, stale saves are refused and write nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pipeline.store import CatalogueStore, open_store
from pipeline.store.access_tables import CorrectionRow
from pipeline.store.engine import transaction
from pipeline.store.leases import LeaseError, LeaseStore
from pipeline.store.review_save import ReviewedField, ReviewSaver, StaleDocumentError
from pipeline.store.tables import AuditEventRow
from tests.review_world import ID_C, T0, add_review_tasks, build_world

TTL = timedelta(minutes=10)
NOW = T0 + timedelta(days=1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[CatalogueStore]:
    s = open_store(db_url)
    try:
        build_world(s, tmp_path, db_url)
        yield s
    finally:
        s.close()


def _written(store: CatalogueStore) -> tuple[int, int]:
    with transaction(store.engine, "count", write=False) as s:
        return (
            s.scalar(select(func.count()).select_from(CorrectionRow)) or 0,
            s.scalar(select(func.count()).select_from(AuditEventRow)) or 0,
        )


def test_concurrent_reviewers_never_get_the_same_task(store: CatalogueStore, db_url: str, tmp_path: Path) -> None:
    tasks = add_review_tasks(store, tmp_path, 24)
    got: dict[str, list[str]] = {}
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def reviewer(name: str) -> None:
        # Each reviewer its own connection pool, as separate server processes would have.
        own = open_store(db_url)
        try:
            leases = LeaseStore(own.engine)
            start.wait()
            mine = got.setdefault(name, [])
            while (lease := leases.claim_next(name, NOW, TTL)) is not None:
                mine.append(lease.task_id)
        except BaseException as e:
            errors.append(e)
        finally:
            own.close()

    threads = [threading.Thread(target=reviewer, args=(f"r{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    claimed = [t for mine in got.values() for t in mine]
    assert sorted(claimed) == sorted(tasks), "every task handed out exactly once"
    assert sum(1 for mine in got.values() if mine) >= 2, "the work was shared"


def test_a_vanished_reviewer_loses_the_task_when_the_lease_expires(store: CatalogueStore, tmp_path: Path) -> None:
    (task_id,) = add_review_tasks(store, tmp_path, 1)
    leases = LeaseStore(store.engine)
    saver = ReviewSaver(store.engine)
    first = leases.claim_next("alice", NOW, TTL)
    assert first is not None and first.task_id == task_id
    assert leases.claim_next("bob", NOW + TTL - timedelta(seconds=1), TTL) is None
    # A heartbeat keeps it; without one it goes back to the queue.
    leases.heartbeat(task_id, "alice", first.token, NOW + timedelta(minutes=9), TTL)
    assert leases.claim_next("bob", NOW + TTL + timedelta(seconds=1), TTL) is None
    late = NOW + timedelta(minutes=9) + TTL + timedelta(seconds=1)
    second = leases.claim_next("bob", late, TTL)
    assert second is not None and second.task_id == task_id and second.token != first.token
    _, version = saver.load(first.doc_id) or (None, "")
    before = _written(store)
    with pytest.raises(LeaseError, match="do not hold task"):
        name = [ReviewedField(position=1, value="王五", normalized="王五")]
        saver.save(task_id=task_id, reviewer="alice", token=first.token, version=version,
                   reviewed=name, now=late, client="x")  # fmt: skip
    with pytest.raises(LeaseError, match="do not hold"):
        leases.heartbeat(task_id, "alice", first.token, late, TTL)
    assert _written(store) == before


def test_postponed_tasks_wait_and_an_expired_lease_is_refused_with_its_time(
    store: CatalogueStore, tmp_path: Path
) -> None:
    first_id, second_id = add_review_tasks(store, tmp_path, 2)
    leases = LeaseStore(store.engine)
    lease = leases.claim_next("alice", NOW, TTL)
    assert lease is not None and lease.task_id == first_id
    leases.postpone(first_id, "alice", lease.token, NOW, NOW + timedelta(hours=1))
    nxt = leases.claim_next("alice", NOW, TTL)
    assert nxt is not None and nxt.task_id == second_id
    # Within alice's lease and before the postponement ends, there is nothing for bob.
    assert leases.claim_next("bob", NOW + timedelta(minutes=5), TTL) is None
    back = leases.claim_next("bob", NOW + timedelta(hours=1), TTL)
    assert back is not None and back.task_id in (first_id, second_id)
    with pytest.raises(LeaseError, match="ran out at"):
        leases.current(second_id, "alice", nxt.token, NOW + TTL)


def test_a_save_of_an_older_document_version_or_an_earlier_claim_writes_nothing(
    store: CatalogueStore, tmp_path: Path
) -> None:
    (task_id,) = add_review_tasks(store, tmp_path, 1)
    leases = LeaseStore(store.engine)
    saver = ReviewSaver(store.engine)
    lease = leases.claim_next("alice", NOW, TTL)
    assert lease is not None
    doc, version = saver.load(lease.doc_id) or (None, "")
    assert doc is not None
    # Someone (the pipeline re-processing the file) changes the document meanwhile.
    store.update_document(doc.model_copy(update={"review_reasons": ["re-derived"]}))
    fix = [ReviewedField(position=0, value=ID_C, normalized=ID_C, reason="OCR misread", evidence="身份证复印件")]
    before = _written(store)
    with pytest.raises(StaleDocumentError, match="changed after you opened it"):
        saver.save(task_id=task_id, reviewer="alice", token=lease.token, version=version, reviewed=fix,
                   now=NOW, client="x")  # fmt: skip
    with pytest.raises(LeaseError, match="taken again"):
        saver.save(task_id=task_id, reviewer="alice", token="0" * 32, version=version, reviewed=fix,
                   now=NOW, client="x")  # fmt: skip
    assert _written(store) == before
    _, fresh = saver.load(lease.doc_id) or (None, "")
    saved, corrections = saver.save(
        task_id=task_id, reviewer="alice", token=lease.token, version=fresh, reviewed=fix, now=NOW, client="10.1.1.1"
    )
    assert saved.fields[0].normalized == ID_C and saved.fields[0].status.value == "corrected"
    assert corrections[0].old == doc.fields[0].value and corrections[0].new == ID_C
    assert corrections[0].features == {"ocr_conf": 0.93} and corrections[0].machine_confidence == 0.41
    assert _written(store) == (before[0] + 1, before[1] + 1)
    event = store.audit_events(doc_id=lease.doc_id)[-1]
    assert event.action == "correct" and event.client == "10.1.1.1"
    assert event.why is not None and f"公民身份号码由'{doc.fields[0].value}'改为'{ID_C}'，依据身份证复印件" in event.why
    assert store.verify_audit().intact
    # Done: nobody gets it again, and a second save of the same page is refused.
    assert leases.claim_next("bob", NOW, TTL) is None
    with pytest.raises(LeaseError, match="finished by alice"):
        saver.save(task_id=task_id, reviewer="alice", token=lease.token, version=fresh, reviewed=fix,
                   now=NOW, client="x")  # fmt: skip
