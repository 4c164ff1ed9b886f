"""The DAGs on a real Airflow 3 stack: api-server, scheduler, dag-processor and Celery workers on the
local PostgreSQL and Redis (tests/conftest.py starts it once per session), driven through the REST API
as an operator would. Faults are real: SIGKILL of a worker's process group, of the scheduler, a cut
database connection.

The first test compares with the embedded runner and needs a catalogue no other test has written to
(archive numbers count on from what the catalogue holds), so it stays first in this file.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from pipeline.ingest.discover import batch_id_for
from pipeline.settings import OcrSettings, Settings
from pipeline.store import open_store
from schemas.models import FileStatus
from tests.realstack import catalogue_snapshot

# The first test also pays for starting the stack (about a minute on an idle machine, several on a busy one).
pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(1800)]

BACKLOG = "dangan_backlog"
RUN_TIMEOUT = 600.0


def _batch(folder: Path, docs: int, seed: int) -> Any:
    from synth import generate_batch

    return generate_batch(folder, docs, seed, "counter", workers=1)


def _catalogue_url(stack: Any) -> str:
    return str(stack.cfg.pg_url(stack.cfg.catalogue_db))


def _tasks(stack: Any, run_id: str) -> dict[tuple[str, int], Any]:
    return {(t.task_id, t.map_index): t for t in stack.api().tasks(BACKLOG, run_id)}


def _wait_for_task(stack: Any, run_id: str, task_id: str, states: tuple[str, ...], timeout: float = 300) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for (tid, _index), ti in _tasks(stack, run_id).items():
            if tid == task_id and ti.state in states:
                return ti
        time.sleep(0.5)
    pytest.fail(f"{task_id} never reached {states}: {_tasks(stack, run_id)}")


def _run(stack: Any, batch: Path) -> tuple[str, str]:
    api = stack.api()
    run = api.trigger(BACKLOG, {"batch_dir": str(batch)})
    return run.run_id, api.wait(BACKLOG, run.run_id, RUN_TIMEOUT).state


def _counts(stack: Any, batch: Path) -> tuple[int, int, dict[str, int]]:
    """(documents, records, {rel_path: pages stored}) of the batch; pages stored must equal the file's pages."""
    store = open_store(_catalogue_url(stack))
    try:
        batch_id = batch_id_for(batch)
        files = store.source_files(batch_id)
        pages = {f.rel_path: len(store.pages(f.file_id)) for f in files if f.status is FileStatus.DONE}
        for f in files:
            if f.status is FileStatus.DONE:
                assert pages[f.rel_path] == f.page_count, f.rel_path
        records = store.records(batch_id)
        assert len({r.archive_no for r in records}) == len(records), "an archive number given twice"
        return len(store.documents(batch_id)), len(records), pages
    finally:
        store.close()


def test_backlog_through_celery_equals_the_embedded_run(
    airflow_stack: Any, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Triggered over REST, run by the Celery worker: the PostgreSQL catalogue holds exactly what the
    embedded runner makes of the same batch; the broken files are quarantined and the run succeeds."""
    batch = tmp_path / "batch"
    truth = _batch(batch, 2, 20260302)
    (batch / "broken.pdf").write_bytes(b"")
    (batch / "torn.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <</Type /Catalog>>\nendobj\ngarbage")

    run_id, state = _run(airflow_stack, batch)
    assert state == "success", _tasks(airflow_stack, run_id)
    assert all(t.state in ("success", "skipped") for t in _tasks(airflow_stack, run_id).values())

    from pipeline.run import ingest_batch

    home = tmp_path / "embedded"
    settings = Settings(home=home, db_url=pg_url, ocr=OcrSettings(engine="rapidocr"), workers=1)
    ingest_batch(batch, settings, show_progress=False)

    on_airflow = catalogue_snapshot(_catalogue_url(airflow_stack), airflow_stack.cfg.dangan_home, batch)
    embedded = catalogue_snapshot(pg_url, home, batch)
    assert len(on_airflow["documents"]) == len(truth.documents) == 2
    assert on_airflow["files"]["broken.pdf"]["status"] == on_airflow["files"]["torn.pdf"]["status"] == "quarantined"
    for part in ("files", "pages", "documents", "records", "pdfa", "index", "qc_tasks"):
        assert on_airflow[part] == embedded[part], part


def test_a_bad_batch_folder_fails_at_once(airflow_stack: Any, tmp_path: Path) -> None:
    run_id, state = _run(airflow_stack, tmp_path / "no-such-batch")
    assert state == "failed"
    first = _tasks(airflow_stack, run_id)[("batch_folder", -1)]
    assert first.state == "failed"
    assert first.try_number == 1, "a missing folder must not be retried"


def test_catalogue_unreachable_for_a_moment_is_retried(
    airflow_stack: Any, catalogue_proxy: Any, tmp_path: Path
) -> None:
    batch = tmp_path / "batch"
    _batch(batch, 1, 4711)
    api = airflow_stack.api()
    catalogue_proxy.cut()
    try:
        run_id = api.trigger(BACKLOG, {"batch_dir": str(batch)}).run_id
        # The first task to need the catalogue (plan_pages) has been refused: it fails, Airflow retries it.
        assert catalogue_proxy.refused.wait(RUN_TIMEOUT)
        time.sleep(0.5)
    finally:
        catalogue_proxy.mend()
    assert api.wait(BACKLOG, run_id, RUN_TIMEOUT).state == "success", _tasks(airflow_stack, run_id)
    assert _tasks(airflow_stack, run_id)[("plan_pages", -1)].try_number == 2
    assert _counts(airflow_stack, batch)[:2] == (1, 1)


def test_scheduler_killed_and_restarted(airflow_stack: Any, tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    _batch(batch, 1, 4712)
    api = airflow_stack.api()
    run_id = api.trigger(BACKLOG, {"batch_dir": str(batch)}).run_id
    _wait_for_task(airflow_stack, run_id, "plan_pages", ("running", "success"))
    airflow_stack.kill("scheduler")
    time.sleep(3)
    airflow_stack.start("scheduler")
    assert api.wait(BACKLOG, run_id, RUN_TIMEOUT).state == "success", _tasks(airflow_stack, run_id)
    assert _counts(airflow_stack, batch)[:2] == (1, 1)


def test_worker_killed_mid_recognition(airflow_stack: Any, tmp_path: Path) -> None:
    """SIGKILL to the only worker's process group while it recognises pages; a fresh worker takes over.
    The task is retried, the run finishes, no document is lost or doubled."""
    batch = tmp_path / "batch"
    truth = _batch(batch, 3, 4713)
    api = airflow_stack.api()
    run_id = api.trigger(BACKLOG, {"batch_dir": str(batch)}).run_id
    _wait_for_task(airflow_stack, run_id, "recognise_pages", ("running",))
    time.sleep(1.0)  # inside the engine, not in the task's start-up
    killed = time.monotonic()
    airflow_stack.kill("worker-1")
    airflow_stack.start_worker("worker-2")
    done = api.wait(BACKLOG, run_id, RUN_TIMEOUT)
    finished = time.monotonic()
    tasks = _tasks(airflow_stack, run_id)
    assert done.state == "success", tasks
    retried = [t for (tid, _i), t in tasks.items() if tid == "recognise_pages" and t.try_number > 1]
    assert retried, tasks
    documents, records, _pages = _counts(airflow_stack, batch)
    assert documents == records == len(truth.documents)
    print(f"killed worker: run finished {finished - killed:.0f} s after the kill")
