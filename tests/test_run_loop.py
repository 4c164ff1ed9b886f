"""The run loop written once: jobs as JSON, one helper applying a step, and what an error means where.

Bad input is set aside per item everywhere; an error of our own is set aside by the embedded runner
(the next run retries the file) but raised by the Airflow tasks, so that Airflow's retries apply.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline import steps, tasks
from pipeline.apply import OwnErrors, apply_step
from pipeline.context import RunContext
from pipeline.errors import CorruptFileError, OcrError, StoreConflictError
from pipeline.ingest.discover import batch_id_for
from pipeline.jobs import FileJob, Job, PageJob, RecordJob, jobs_from_json, jobs_to_json
from pipeline.run import ingest_batch
from pipeline.settings import get_settings
from pipeline.store import CatalogueStore, open_store
from schemas.models import FileKind, FileStatus, PageResult
from tests.badfiles import good_jpeg

JOBS: list[Job] = [
    PageJob(file_id="f" * 64, rel_path="box 1/扫描 001.pdf", kind=FileKind.PDF, page_no=3),
    FileJob(file_id="f" * 64, rel_path="box 1/扫描 001.pdf"),
    RecordJob(record_id="r-2019-YL-1-7"),
]


@pytest.mark.parametrize("job", JOBS, ids=lambda j: type(j).__name__)
def test_a_job_round_trips_through_json(job: Job) -> None:
    """What an Airflow task returns goes through the XCom backend as JSON text and comes back the same job."""
    text = json.dumps(jobs_to_json([job, job]))
    assert jobs_from_json(type(job), json.loads(text)) == [job, job]


@pytest.mark.parametrize(
    "item",
    [
        {"file_id": "f", "rel_path": "a.pdf", "kind": "pdf", "page_no": 0},
        {"file_id": "f", "rel_path": "a.pdf", "kind": "docx", "page_no": 1},
        {"file_id": "f", "rel_path": "a.pdf", "kind": "pdf", "page_no": 1, "image": "..."},
        {"file_id": "f", "rel_path": "a.pdf", "kind": "pdf"},
    ],
)
def test_a_malformed_page_job_is_refused(item: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        jobs_from_json(PageJob, [item])


# ---- the helper: bad input vs an error of ours ---------------------------------------------------


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings from the environment, as an Airflow worker reads them: home under tmp_path, the null engine."""
    monkeypatch.setenv("DANGAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DANGAN_OCR__ENGINE", "null")
    monkeypatch.setenv("DANGAN_WORKERS", "1")
    for var in ("DANGAN_DB_URL", "DANGAN_SEARCH_BACKEND"):
        monkeypatch.delenv(var, raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _batch(root: Path) -> Path:
    """A torn scan (bad input, in this test) and a good one (whose engine fails, in this test)."""
    batch = root / "batch"
    batch.mkdir()
    good_jpeg(batch / "a-torn.jpg")
    good_jpeg(batch / "b-good.jpg", size=(640, 900))
    (batch / "notes.txt").write_text("box list, not a scan\n", encoding="utf-8")
    return batch


def _faulty_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """a-torn.jpg reads as bad input; b-good.jpg meets an engine fault (ours, retryable)."""
    real = steps.process_page

    def process_page(ctx: RunContext, file_id: str, rel_path: str, kind: FileKind, page_no: int) -> PageResult:
        if rel_path == "a-torn.jpg":
            raise CorruptFileError(rel_path, "JPEG data ends early")
        if rel_path == "b-good.jpg":
            raise OcrError("the engine's worker died")
        return real(ctx, file_id, rel_path, kind, page_no)

    monkeypatch.setattr(steps, "process_page", process_page)


def _files(store: CatalogueStore, batch: Path) -> dict[str, tuple[FileStatus, str | None]]:
    return {f.rel_path: (f.status, f.error) for f in store.source_files(batch_id_for(batch))}


@pytest.mark.parametrize("own", list(OwnErrors))
def test_apply_step_sets_bad_input_aside_and_our_error_by_policy(
    env: Path, monkeypatch: pytest.MonkeyPatch, own: OwnErrors
) -> None:
    batch = _batch(env)
    settings = get_settings()
    with open_store(settings.database_url) as store:
        plan = steps.plan_batch(batch, settings, store)
        torn = [j for j in plan.page_jobs if j.rel_path == "a-torn.jpg"]
        good = [j for j in plan.page_jobs if j.rel_path == "b-good.jpg"]
        _faulty_engine(monkeypatch)

        # Bad input: the same under both policies, the file is quarantined with the reason.
        assert apply_step(store, plan.context, steps.RECOGNISE_PAGES, torn, own) == 1
        assert _files(store, batch)["a-torn.jpg"] == (FileStatus.QUARANTINED, "page 1: JPEG data ends early")

        if own is OwnErrors.RAISE:
            with pytest.raises(OcrError, match="worker died"):
                apply_step(store, plan.context, steps.RECOGNISE_PAGES, good, own)
            # Nothing recorded: Airflow's retry of the task finds the file as it was.
            assert _files(store, batch)["b-good.jpg"] == (FileStatus.PENDING, None)
        else:
            assert apply_step(store, plan.context, steps.RECOGNISE_PAGES, good, own) == 1
            status, reason = _files(store, batch)["b-good.jpg"]
            assert status is FileStatus.FAILED and reason == "page 1: OcrError: the engine's worker died"


def test_embedded_run_sets_our_error_aside_and_goes_on(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    batch = _batch(env)
    _faulty_engine(monkeypatch)
    summary = ingest_batch(batch, get_settings(), show_progress=False)
    assert [q.rel_path for q in summary.quarantined] == ["a-torn.jpg"]
    assert [f.rel_path for f in summary.failed] == ["b-good.jpg"] and "OcrError" in summary.failed[0].reason


def test_airflow_tasks_leave_our_error_to_airflows_retries(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first attempt raises the engine fault (the task fails and is retried); the retry succeeds."""
    batch = _batch(env)
    folder = tasks.batch_folder(str(batch))
    chunks = tasks.plan_pages(folder, "manual__1", chunk_size=8)
    assert len(chunks) == 1
    jobs = chunks[0]
    assert {j["rel_path"] for j in jobs} == {"a-torn.jpg", "b-good.jpg"}

    _faulty_engine(monkeypatch)
    with pytest.raises(OcrError):
        tasks.recognise_pages(folder, jobs)
    monkeypatch.undo()  # the engine is back (the environment too: set it again)
    monkeypatch.setenv("DANGAN_HOME", str(env / "home"))
    monkeypatch.setenv("DANGAN_OCR__ENGINE", "null")
    get_settings.cache_clear()

    # The retry runs the same chunk: the torn file stays quarantined (not read again), the good one is recognised.
    assert tasks.recognise_pages(folder, jobs) == 1
    assert tasks.assemble_documents(folder) == 1
    record_chunks = tasks.number_records(folder)
    assert sum(tasks.archive_records(folder, chunk) for chunk in record_chunks) == 1
    summary = tasks.finish_batch(folder, "manual__1")
    assert [q["rel_path"] for q in summary["quarantined"]] == ["a-torn.jpg"]
    assert summary["failed"] == [] and summary["documents"] == 1
    assert summary["pages_processed_now"] == 1 and [s["rel_path"] for s in summary["skipped"]] == ["notes.txt"]
    with open_store(get_settings().database_url) as store:
        files = _files(store, batch)
        assert files["b-good.jpg"] == (FileStatus.DONE, None)
        assert files["a-torn.jpg"][0] is FileStatus.QUARANTINED
        (record,) = store.records(batch_id_for(batch))
        assert record.pdfa_path and Path(record.pdfa_path).is_file()


# ---- the summary, from the catalogue ---------------------------------------------------------------


def _airflow_style_run(folder: str, run_id: str) -> dict[str, object]:
    """The DAG's tasks in its order, each in its own call as on separate workers."""
    for chunk in tasks.plan_pages(folder, run_id, chunk_size=1):
        tasks.recognise_pages(folder, chunk)
    tasks.assemble_documents(folder)
    for chunk in tasks.number_records(folder, chunk_size=1):
        tasks.archive_records(folder, chunk)
    return tasks.finish_batch(folder, run_id)


def test_an_airflow_style_run_reports_what_the_embedded_run_reports(env: Path) -> None:
    """finish_batch knows nothing of the plan's task: pages recognised and skipped entries come from the catalogue."""
    for n, name in enumerate(("embedded", "airflow")):
        folder = env / name
        folder.mkdir()
        # Scans of their own: the same bytes in the second batch would be recorded as duplicates of the first.
        good_jpeg(folder / "a.jpg", size=(620 + n, 877))
        good_jpeg(folder / "b.jpg", size=(640 + n, 900))
        (folder / "empty.pdf").write_bytes(b"")
        (folder / "Thumbs.db").write_bytes(b"\0" * 16)
    embedded = ingest_batch(env / "embedded", get_settings(), show_progress=False).model_dump(mode="json")
    airflow = _airflow_style_run(tasks.batch_folder(str(env / "airflow")), "scheduled__2026-03-02T22:30:00+00:00")

    assert airflow["pages_processed_now"] == embedded["pages_processed_now"] == 2
    assert airflow["skipped"] == embedded["skipped"]
    assert [s["rel_path"] for s in embedded["skipped"]] == ["Thumbs.db"]
    assert airflow["pages"] == 2 and airflow["documents"] == 2
    assert [q["rel_path"] for q in airflow["quarantined"]] == ["empty.pdf"]
    same = {"files", "pages", "documents", "per_form", "accepted", "review", "failed", "skipped"}
    assert {k: airflow[k] for k in same} == {k: embedded[k] for k in same}
    assert isinstance(airflow["seconds"], float) and airflow["seconds"] >= 0.0

    # The next run finds nothing to do, and says so; the skipped entry is still named.
    again = _airflow_style_run(str(env / "airflow"), "manual__2026-03-03T08:00:00+00:00")
    assert again["pages_processed_now"] == 0 and again["skipped"] == embedded["skipped"] and again["documents"] == 2


def test_a_summary_of_a_run_never_planned_is_refused(env: Path) -> None:
    folder = env / "batch"
    folder.mkdir()
    good_jpeg(folder / "a.jpg")
    _airflow_style_run(str(folder), "manual__1")
    # Not retried by Airflow (retrying cannot make the run appear): failed at once, the cause chained.
    with pytest.raises(Exception, match="not retried") as info:
        tasks.finish_batch(str(folder), "manual__9")
    assert isinstance(info.value.__cause__, StoreConflictError)
    assert "run manual__9 of batch" in info.value.__cause__.message
