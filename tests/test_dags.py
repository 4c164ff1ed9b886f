"""The Airflow DAGs, parsed and run for real (dag.test) against a throw-away Airflow home and SQLite DB.

Airflow reads its configuration when it is first imported, so every `airflow` import happens inside
the tests, after the session fixture has pointed AIRFLOW_HOME at a temporary folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pipeline.errors import ConfigError
from pipeline.ingest.discover import batch_id_for
from pipeline.nightly import nights_due
from pipeline.settings import get_settings
from pipeline.store import open_store
from pipeline.tasks import MAX_MAPPED, batch_folder, chunked, night_folder
from schemas.models import FileStatus
from tests.badfiles import good_jpeg

pytestmark = pytest.mark.airflow

REPO = Path(__file__).resolve().parents[1]
DAGS = REPO / "dags"
DAG_IDS = {"dangan_backlog", "dangan_counter_nightly"}
# What a DAG file must never pull in at parse time: the dag-processor parses every file every few seconds.
HEAVY_MODULES = ("pipeline.run", "pipeline.steps", "rapidocr_onnxruntime", "cv2")
OCR_POOL_SLOTS = 2


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """AIRFLOW_HOME and its SQLite metadata DB in a temporary folder, tables created, "ocr" pool made."""
    home = tmp_path_factory.mktemp("airflow")
    if "airflow" in sys.modules:
        pytest.fail("airflow was imported before this fixture set AIRFLOW_HOME; import it inside tests only")
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        # dag.test() re-parses the DAG bundle, which is the dags folder.
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS": "False",
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        # What `airflow db migrate` does on an empty database (create from the ORM, stamp), in-process:
        # a subprocess would pay Airflow's import time twice.
        from airflow.models.pool import Pool
        from airflow.utils.db import initdb

        initdb()
        Pool.create_or_update_pool(
            "ocr", slots=OCR_POOL_SLOTS, description="OCR and PDF/A engine slots", include_deferred=False
        )
        yield home


def _dag_bag() -> Any:
    """The dags folder parsed as the dag-processor and the task runner parse it: as a bundle, whose folder is
    on sys.path (the DAG files import their shared tasks from it)."""
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(str(DAGS), bundle_path=DAGS)


@pytest.fixture(scope="session")
def dags(airflow_home: Path) -> dict[str, Any]:
    bag = _dag_bag()
    assert bag.import_errors == {}
    return dict(bag.dags)


@pytest.fixture
def dangan_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """DANGAN_HOME and DANGAN_DROP_DIR under tmp_path; the settings cache cleared around the test."""
    monkeypatch.setenv("DANGAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DANGAN_DROP_DIR", str(tmp_path / "drop"))
    monkeypatch.delenv("DANGAN_DB_URL", raising=False)
    monkeypatch.delenv("DANGAN_SEARCH_BACKEND", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _states(dagrun: Any) -> dict[tuple[str, int], str]:
    return {(ti.task_id, ti.map_index): str(ti.state) for ti in dagrun.get_task_instances()}


def _catalogue(batch_dir: Path) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """(records, documents, {rel_path: source file}) of the batch in the catalogue the settings name."""
    batch_id = batch_id_for(batch_dir)
    store = open_store(get_settings().database_url)
    try:
        files = {f.rel_path: f for f in store.source_files(batch_id)}
        return store.records(batch_id), store.documents(batch_id), files
    finally:
        store.close()


# ---- parsing ----------------------------------------------------------------------------------


def test_dagbag_parses_without_db_queries_or_connections(airflow_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow import settings
    from airflow.sdk import BaseHook
    from sqlalchemy import event

    statements: list[str] = []
    conn_ids: list[str] = []
    real_get_connection = BaseHook.get_connection

    def spy_get_connection(cls: type, conn_id: str) -> Any:
        conn_ids.append(conn_id)
        return real_get_connection(conn_id)

    def record_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(spy_get_connection))
    event.listen(settings.engine, "before_cursor_execute", record_statement)
    try:
        bag = _dag_bag()
    finally:
        event.remove(settings.engine, "before_cursor_execute", record_statement)

    assert bag.import_errors == {}
    assert set(bag.dag_ids) == DAG_IDS | {"dangan_fixity_nightly"}
    assert statements == []
    assert conn_ids == []


def test_dags_fan_out_over_the_ocr_pool(dags: dict[str, Any]) -> None:
    from airflow.configuration import conf
    from airflow.models.pool import Pool

    # pipeline.tasks caps the chunk count at Airflow's own limit.
    assert conf.getint("core", "max_map_length") == MAX_MAPPED
    assert Pool.get_pool("ocr") is not None
    for dag_id in DAG_IDS:
        dag = dags[dag_id]
        assert len(dag.tasks) == 7, dag_id
        for task_id in ("recognise_pages", "archive_records"):
            task = dag.get_task(task_id)
            assert task.pool == "ocr", (dag_id, task_id)
            assert type(task).__name__.endswith("MappedOperator"), (dag_id, task_id)
        for task_id in ("assemble_documents", "finish_batch"):
            assert dag.get_task(task_id).trigger_rule == "none_failed", (dag_id, task_id)


def test_dag_files_import_nothing_heavy(airflow_home: Path) -> None:
    probe = (
        "import importlib.util, json, sys\n"
        f"sys.path.append({str(DAGS)!r})  # as Airflow does for a bundle's folder\n"
        "for path in sys.argv[2:]:\n"
        "    spec = importlib.util.spec_from_file_location('dagfile_' + str(len(sys.modules)), path)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print(json.dumps([m for m in sys.argv[1].split(',') if m in sys.modules]))\n"
    )
    files = sorted(str(p) for p in DAGS.glob("*.py"))
    assert len(files) >= 2
    out = subprocess.run(
        [sys.executable, "-c", probe, ",".join(HEAVY_MODULES), *files],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
        cwd=REPO,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_nightly_timetable_fires_for_the_nights_pipeline_nightly_counts(dags: dict[str, Any]) -> None:
    """The scheduler's own timetable (serialized as the scheduler reads it), from the first night to now:
    one run per night at its local run time, each night's logical date on that night in the archive's zone."""
    from airflow.serialization.serialized_objects import DagSerialization

    dag = DagSerialization.from_dict(DagSerialization.to_dict(dags["dangan_counter_nightly"]))
    assert dag.catchup
    nightly = get_settings().nightly
    now = datetime.now(UTC)
    fired = [info.logical_date for info in dag.iter_dagrun_infos_between(dag.start_date, now)]
    assert [when.astimezone(ZoneInfo(nightly.timezone)).date() for when in fired] == nights_due(nightly, now)
    assert len(fired) >= 2, "the first night is before this session: at least two nights are due"
    assert {when.astimezone(ZoneInfo(nightly.timezone)).time() for when in fired} == {nightly.run_at}


# ---- runs -------------------------------------------------------------------------------------


@pytest.mark.ocr
def test_backlog_dag_ingests_a_synthetic_counter_batch(
    dags: dict[str, Any], dangan_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real default OCR engine: form types come out; a broken file is quarantined; a re-run doubles nothing."""
    pytest.importorskip("synth")
    from synth import generate_batch

    monkeypatch.delenv("DANGAN_OCR__ENGINE", raising=False)
    get_settings.cache_clear()
    assert get_settings().ocr.engine == "rapidocr"
    batch = dangan_env / "batch"
    truth = generate_batch(batch, 2, 20260302, "counter", workers=1)
    (batch / "broken.pdf").write_bytes(b"")

    run = dags["dangan_backlog"].test(run_conf={"batch_dir": str(batch)})
    assert str(run.state) == "success", _states(run)
    assert all(state == "success" for state in _states(run).values()), _states(run)

    records, documents, files = _catalogue(batch)
    assert len(records) == len(truth.documents) == 2
    assert files["broken.pdf"].status is FileStatus.QUARANTINED
    assert "empty" in (files["broken.pdf"].error or "")
    found = {(d.rel_path, d.first_page): d.classification.label for d in documents if d.classification}
    expected = {(t.source_file, t.first_page): t.form_id for t in truth.documents}
    assert set(found) == set(expected)
    # One of these scans has its title garbled by OCR (社会：呆险补费宙：此表): the classifier must then say
    # "unknown" and send it to review, never name another form; the other one must be named right.
    assert all(found[key] in (form_id, None) for key, form_id in expected.items()), (found, expected)
    assert sum(found[key] == form_id for key, form_id in expected.items()) >= 1

    again = dags["dangan_backlog"].test(run_conf={"batch_dir": str(batch)})
    states = _states(again)
    assert str(again.state) == "success", states
    # Nothing left to recognise or archive: the mapped tasks skip, the rest still run.
    assert states[("recognise_pages", -1)] == states[("archive_records", -1)] == "skipped"
    assert states[("assemble_documents", -1)] == states[("finish_batch", -1)] == "success"
    assert len(_catalogue(batch)[0]) == 2


def test_nightly_dag_takes_the_days_drop_folder(
    dags: dict[str, Any], dangan_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DANGAN_OCR__ENGINE", "null")
    get_settings.cache_clear()
    day = dangan_env / "drop" / "2026-12-02"
    day.mkdir(parents=True)
    good_jpeg(day / "counter-001.jpg")
    (day / "torn.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <</Type /Catalog>>\nendobj\ngarbage")
    (dangan_env / "drop" / "2026-12-01").mkdir()
    good_jpeg(dangan_env / "drop" / "2026-12-01" / "yesterday.jpg")

    # 22:30 in Shanghai, where the archive is: 14:30 UTC of the same day.
    run = dags["dangan_counter_nightly"].test(logical_date=datetime(2026, 12, 2, 14, 30, tzinfo=UTC))
    assert str(run.state) == "success", _states(run)
    assert all(state == "success" for state in _states(run).values()), _states(run)

    records, _documents, files = _catalogue(day)
    assert len(records) == 1
    assert files["counter-001.jpg"].status is FileStatus.DONE
    assert files["torn.pdf"].status is FileStatus.QUARANTINED
    # The run is in the catalogue under Airflow's run id, planned and finished: its summary is read from there.
    with open_store(get_settings().database_url) as store:
        recorded = store.runs.get(batch_id_for(day), run.run_id)
    assert recorded is not None and recorded.finished_at is not None and recorded.pages_before == 0
    assert _catalogue(dangan_env / "drop" / "2026-12-01")[0] == []

    # A quiet day: the folder is made, the run succeeds with nothing to do.
    quiet = dags["dangan_counter_nightly"].test(logical_date=datetime(2026, 12, 3, 14, 30, tzinfo=UTC))
    assert str(quiet.state) == "success", _states(quiet)
    assert (dangan_env / "drop" / "2026-12-03").is_dir()


# ---- pipeline.tasks ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 1024, 8191, 8192, 8193, 100_000, 1_000_003])
@pytest.mark.parametrize("chunk_size", [0, 1, 8, 5000])
def test_chunked_never_exceeds_max_map_length(n: int, chunk_size: int) -> None:
    items = list(range(n))
    chunks = chunked(items, chunk_size)
    assert len(chunks) <= MAX_MAPPED == 1024
    assert [i for chunk in chunks for i in chunk] == items
    assert all(chunks)
    if n > 0 and n <= chunk_size:
        assert len(chunks) == 1


def _not_retried(info: pytest.ExceptionInfo[BaseException]) -> ConfigError:
    """Airflow fails an AirflowFailException at once, whatever the task's retries; the cause says why."""
    from airflow.sdk.exceptions import AirflowFailException

    assert isinstance(info.value, AirflowFailException)
    assert isinstance(info.value.__cause__, ConfigError)
    assert "not retried" in str(info.value)
    return info.value.__cause__


def test_task_arguments_are_checked_and_not_retried(tmp_path: Path) -> None:
    with pytest.raises(Exception) as info:
        batch_folder("")
    assert "no batch folder given" in _not_retried(info).message
    with pytest.raises(Exception) as info:
        batch_folder(str(tmp_path / "missing"))
    assert "does not exist" in _not_retried(info).message
    assert batch_folder(str(tmp_path)) == str(tmp_path.resolve())
    with pytest.raises(Exception) as info:
        night_folder("")
    assert "logical date" in _not_retried(info).message


def test_retryable_errors_are_left_to_airflows_retries() -> None:
    from pipeline.errors import StoreError
    from pipeline.tasks import fail_fast

    @fail_fast
    def flaky() -> None:
        raise StoreError("database restarting")

    with pytest.raises(StoreError):
        flaky()


# ---- preservation -----------------------------------------------------------------------------


def test_fixity_dag_fails_loudly_on_a_changed_file(dags: dict[str, Any], dangan_env: Path) -> None:
    import hashlib
    from datetime import UTC, datetime

    from schemas.models import ArchiveRecord, Batch, Document, SourceFile

    pdf = dangan_env / "home" / "archive" / "2020" / "r.pdf"
    pdf.parent.mkdir(parents=True)
    pdf.write_bytes(b"%PDF record")
    store = open_store(get_settings().database_url)
    try:
        store.upsert_batch(Batch(batch_id="b", root=str(dangan_env), created_at=datetime.now(UTC)))
        sha = hashlib.sha256(b"%PDF record").hexdigest()
        store.upsert_source_file(
            SourceFile(file_id="f", batch_id="b", rel_path="home/archive/2020/r.pdf", size=11, sha256=sha)
        )
        store.replace_documents(
            "b", "f", [Document(doc_id="d", batch_id="b", file_id="f", rel_path="s", first_page=1, last_page=1)]
        )
        store.save_record(
            ArchiveRecord(
                record_id="r", doc_id="d", archive_no="2020-补缴-001-0001", title="t", pdfa_path=str(pdf), sha256=sha
            )
        )
    finally:
        store.close()
    # Seven nights check everything once: the first night takes the files never checked.
    run = dags["dangan_fixity_nightly"].test()
    assert str(run.state) == "success", _states(run)
    pdf.write_bytes(b"%PDF changed")
    failed = dags["dangan_fixity_nightly"].test()
    assert str(failed.state) == "failed", _states(failed)
