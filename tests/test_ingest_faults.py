"""Faults around a run, on SQLite and PostgreSQL: kill -9 at three moments, two runs of one batch at once, an
archive folder that cannot be written, a full disk. Each time the catalogue and the archive must end up as
an uninterrupted run leaves them.

Runs are real `dangan ingest` processes (the null engine, one worker: the faults are about the run, not the
reading). Where a run is killed is chosen by `tests.fault_hold`, which holds the process at the Nth call of a
pipeline function: the same moment on every machine. The unwritable archive and the full disk are real: a
read-only bind mount and a 4 KiB tmpfs over the archive folder, in a mount namespace of the run's own
(`unshare`), so they hold for root too and vanish with the process.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.archive.pdfa import sha256_file
from pipeline.batch_lock import LockMode, hold_batch
from pipeline.errors import BatchBusyError, ExitCode
from pipeline.ingest.discover import batch_id_for
from pipeline.partial_files import NO_BATCH, PartOwner, owner_of, part_path, remove_stale_parts, writer_is_gone
from pipeline.settings import Settings, get_settings
from pipeline.store import open_store
from tests.badfiles import good_jpeg

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
STEP_TIMEOUT = 240.0
PARTS_REMOVED = re.compile(r"partial files removed \(left by a killed run\)\s*\S\s*(\d+)")
PAGES_NOW = re.compile(r"pages recognised this run\s*\S\s*(\d+)")


# ---- running `dangan ingest` ------------------------------------------------------------------------


@dataclass(frozen=True)
class Home:
    """Where one catalogue and archive live, and the environment a run over them gets."""

    path: Path
    db_url: str | None  # None: SQLite under the home

    @property
    def url(self) -> str:
        return self.db_url or f"sqlite:///{(self.path / 'catalogue.sqlite').resolve()}"

    @property
    def archive(self) -> Path:
        return self.path / "archive"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DANGAN_")}
        env.update(
            DANGAN_HOME=str(self.path),
            DANGAN_OCR__ENGINE="null",
            PYTHONPATH=str(ROOT),
            COLUMNS="200",  # the summary's rows on one line each
        )
        if self.db_url:
            env["DANGAN_DB_URL"] = self.db_url
        return env


@dataclass
class Run:
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    def wait(self, timeout: float = STEP_TIMEOUT) -> int:
        return self.proc.wait(timeout=timeout)

    @property
    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return " ".join(self.err.read_text(encoding="utf-8", errors="replace").split())


_started: list[Run] = []


def start(
    home: Home, batch: Path, *extra: str, hold: tuple[Path, str] | None = None, wrap: list[str] | None = None
) -> Run:
    """`dangan ingest` of `batch` as its own process; `hold` = (folder, points) holds it there (tests.fault_hold)."""
    args = ["ingest", str(batch), "--workers", "1", *extra]
    if hold is not None:
        cmd = [sys.executable, "-m", "tests.fault_hold", str(hold[0]), hold[1], *args]
    else:
        cmd = [sys.executable, "-m", "pipeline.cli", *args]
    logs = home.path.parent / "logs"
    logs.mkdir(exist_ok=True)
    n = len(list(logs.glob("*.out"))) + 1
    out, err = logs / f"run{n}.out", logs / f"run{n}.err"
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen([*(wrap or []), *cmd], env=home.env(), stdout=o, stderr=e, cwd=ROOT)
    _started.append(Run(proc, out, err))
    return _started[-1]


def ingest(home: Home, batch: Path, *extra: str, wrap: list[str] | None = None) -> Run:
    run = start(home, batch, *extra, wrap=wrap)
    run.wait()
    return run


def ok(run: Run) -> Run:
    assert run.proc.returncode == 0, f"exit {run.proc.returncode}: {run.stderr}"
    return run


def wait_held(run: Run, folder: Path, point: str) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT
    while not (folder / f"{point}.held").exists():
        if run.proc.poll() is not None:
            pytest.fail(f"the run ended (exit {run.proc.returncode}) before reaching {point}: {run.stderr}")
        if time.monotonic() > deadline:
            pytest.fail(f"the run did not reach {point} in {STEP_TIMEOUT} s")
        time.sleep(0.02)


def go(folder: Path, point: str) -> None:
    (folder / f"{point}.go").touch()


def in_own_mounts(setup: str) -> list[str]:
    """A command prefix: the run gets a mount namespace of its own, `setup` run in it first."""
    if shutil.which("unshare") is None:
        pytest.fail("these fault tests need util-linux `unshare` (a mount namespace for the run)")
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", f'{setup} && exec "$@"', "sh"]


# ---- what a run leaves behind -----------------------------------------------------------------------


def parts_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.part"))


def archive_files(home: Home) -> dict[str, tuple[int, int]]:
    """Each file in the archive with its inode and mtime: a rewritten file gets a new inode."""
    if not home.archive.is_dir():
        return {}
    return {
        str(p.relative_to(home.archive)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted(home.archive.rglob("*"))
        if p.is_file()
    }


def outcome(home: Home, batch: Path) -> dict[str, Any]:
    """The catalogue's view of the batch and the archive's files, without the ids a batch folder's path makes."""
    batch_id = batch_id_for(batch)
    with open_store(home.url) as store:
        files = store.source_files(batch_id)
        docs = store.documents(batch_id)
        records = store.records(batch_id)
        pages = sorted((f.rel_path, p.page.page_no) for f in files for p in store.pages(f.file_id))
    ids = {"doc_id", "batch_id", "file_id"}
    archived = []
    for r in records:
        path = Path(r.pdfa_path) if r.pdfa_path else None
        intact = path is not None and path.is_file() and sha256_file(path) == r.sha256
        where = str(path.relative_to(home.archive)) if path is not None else None
        archived.append({**r.model_dump(mode="json", exclude={"record_id", "doc_id", "pdfa_path", "sha256"}),
                         "pdfa": where, "intact": intact})  # fmt: skip
    return {
        "files": sorted((f.rel_path, f.status.value, f.page_count, f.error) for f in files),
        "pages": pages,
        "documents": sorted(json.dumps(d.model_dump(mode="json", exclude=ids), sort_keys=True) for d in docs),
        "records": sorted(json.dumps(a, sort_keys=True) for a in archived),
        "archive": sorted(archive_files(home)),
        "parts": parts_under(home.path),
    }


# ---- the batch, and the uninterrupted run every faulty one must end up as --------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two counter scans: two files, two documents, more than three pages (seed fixed)."""
    from synth import generate_batch

    batch = tmp_path_factory.mktemp("template") / "batch"
    generate_batch(batch, 2, 11, "counter")
    return batch


@pytest.fixture(scope="module")
def reference(template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("reference")
    batch = root / "batch"
    shutil.copytree(template, batch)
    home = Home(root / "home", None)
    ok(ingest(home, batch))
    made = outcome(home, batch)
    # What "uninterrupted" means for this batch, so that a comparison with it can fail.
    assert len(made["files"]) == 2 and all(status == "done" for _p, status, _n, _e in made["files"])
    assert len(made["pages"]) > 3 and len(made["records"]) >= 2
    assert len(made["archive"]) == len(made["records"]) and made["parts"] == []
    assert all(json.loads(r)["intact"] for r in made["records"])
    return made


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def home(request: pytest.FixtureRequest, tmp_path: Path) -> Home:
    db_url = str(request.getfixturevalue("pg_url")) if request.param == "postgres" else None
    return Home(tmp_path / "home", db_url)


@pytest.fixture
def batch(template: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "batch"
    shutil.copytree(template, folder)
    return folder


# ---- kill -9 at three moments, then resume -------------------------------------------------------------


@pytest.mark.parametrize("point", ["recognise", "assemble", "pdfa"])
def test_a_run_killed_mid_step_resumes_to_what_an_uninterrupted_run_makes(
    home: Home, batch: Path, reference: dict[str, Any], tmp_path: Path, point: str
) -> None:
    holds = tmp_path / "holds"
    holds.mkdir()
    run = start(home, batch, hold=(holds, point))
    wait_held(run, holds, point)
    # Where the run stands: a page image and a PDF/A are half written (their .part files exist).
    left = outcome(home, batch)
    if point == "recognise":
        assert len(left["pages"]) == 2 and len(parts_under(home.path / "work")) == 1
    elif point == "assemble":
        assert len(left["documents"]) >= 1 and left["records"] == []
    else:
        assert len(parts_under(home.archive)) == 1
        assert len([f for f in left["archive"] if not f.endswith(".part")]) == 1
    run.proc.send_signal(signal.SIGKILL)
    run.wait()

    resumed = ok(ingest(home, batch))
    removed = PARTS_REMOVED.search(resumed.stdout)
    assert removed is not None, resumed.stdout
    assert int(removed[1]) == (0 if point == "assemble" else 1)
    assert outcome(home, batch) == reference


# ---- two runs of one batch at once ------------------------------------------------------------------------


def test_a_second_run_of_a_busy_batch_refuses_or_waits_and_changes_nothing(
    home: Home, batch: Path, reference: dict[str, Any], tmp_path: Path
) -> None:
    holds = tmp_path / "holds"
    holds.mkdir()
    first = start(home, batch, hold=(holds, "recognise,finish"))
    wait_held(first, holds, "recognise")

    before = outcome(home, batch)
    refused = ingest(home, batch)
    assert refused.proc.returncode == ExitCode.BATCH_BUSY, refused.stderr
    assert "is being worked on by another run" in refused.stderr and f"pid {first.proc.pid} " in refused.stderr
    assert "--wait" in refused.stderr
    assert outcome(home, batch) == before

    waiting = start(home, batch, "--wait")
    deadline = time.monotonic() + STEP_TIMEOUT
    while "waiting for it" not in waiting.stderr:
        assert waiting.proc.poll() is None, f"the waiting run ended: {waiting.stderr}"
        assert time.monotonic() < deadline, "the second run never said it waits"
        time.sleep(0.05)

    go(holds, "recognise")
    wait_held(first, holds, "finish")
    # The first run has done all its work and still holds the batch: the second one is still waiting.
    assert waiting.proc.poll() is None
    done_by_first = outcome(home, batch)
    files_by_first = archive_files(home)
    assert done_by_first == reference

    go(holds, "finish")
    first.wait()
    ok(first)
    waiting.wait()
    second = ok(waiting)
    assert "this run goes on" in second.stderr
    pages_now = PAGES_NOW.search(second.stdout)
    assert pages_now is not None and pages_now[1] == "0", second.stdout
    assert outcome(home, batch) == done_by_first
    assert archive_files(home) == files_by_first  # not one PDF/A written again


def test_the_airflow_tasks_refuse_a_batch_an_embedded_run_holds(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import tasks

    folder = tmp_path / "batch"
    folder.mkdir()
    good_jpeg(folder / "a.jpg")
    for key, value in home.env().items():
        if key.startswith("DANGAN_"):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        settings = get_settings()
        with hold_batch(settings, batch_id_for(folder), folder, role="dangan ingest"):
            with pytest.raises(BatchBusyError, match=r"another run: dangan ingest, pid \d+"):
                tasks.plan_pages(str(folder), "manual__1")
            with pytest.raises(BatchBusyError):
                tasks.assemble_documents(str(folder))
        # Free again: the DAG's tasks run, side by side (each holds the batch shared).
        chunks = tasks.plan_pages(str(folder), "manual__1")
        with hold_batch(settings, batch_id_for(folder), folder, mode=LockMode.SHARED, role="an Airflow task"):
            assert sum(tasks.recognise_pages(str(folder), chunk) for chunk in chunks) == 1
            # ... but never beside an exclusive holder.
            with pytest.raises(BatchBusyError), hold_batch(settings, batch_id_for(folder), folder):
                pass
    finally:
        get_settings.cache_clear()


# ---- faults of our own: an archive folder not writable, a full disk ----------------------------------


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("mount --bind {a} {a} && mount -o remount,bind,ro {a}", "Read-only file system"),
        ("mount -t tmpfs -o size=4k dangan-full {a}", "No space left on device"),
    ],
    ids=["archive-read-only", "disk-full"],
)
def test_a_fault_of_ours_fails_the_run_and_once_repaired_the_documents_are_decided_from_their_fields(
    home: Home, batch: Path, reference: dict[str, Any], fault: str, says: str
) -> None:
    home.archive.mkdir(parents=True)
    broken = ingest(home, batch, wrap=in_own_mounts(fault.format(a=shlex.quote(str(home.archive)))))
    if broken.proc.returncode != ExitCode.RUN_INCOMPLETE and "unshare" in broken.stderr:
        pytest.fail(f"the test cannot make its fault (needs CAP_SYS_ADMIN for a mount namespace): {broken.stderr}")
    assert broken.proc.returncode == ExitCode.RUN_INCOMPLETE, broken.stderr
    assert "not finished for a reason of ours" in broken.stderr and says in broken.stderr
    assert "Failed files" in broken.stdout

    failed = outcome(home, batch)
    # Every file failed on its PDF/A, named with the cause; the documents are decided as their fields say.
    assert [(status, (error or "").startswith("PDF/A ")) for _p, status, _n, error in failed["files"]] == [
        ("failed", True),
        ("failed", True),
    ]
    assert failed["documents"] == reference["documents"]
    assert not any("PDF/A" in d for d in failed["documents"])
    assert failed["archive"] == [] and failed["parts"] == []

    repaired = ok(ingest(home, batch))
    assert "Failed files" not in repaired.stdout
    assert outcome(home, batch) == reference


# ---- the parts of it, without a run --------------------------------------------------------------------


def test_a_temporary_name_is_its_writers_own(tmp_path: Path) -> None:
    final = tmp_path / "000001_pp.jpg"
    a, b = part_path(final, "b0123456789abcde"), part_path(final, "b0123456789abcde")
    assert a != b and a.parent == final.parent and a.name.startswith(".000001_pp.jpg.")
    owner = owner_of(a.name)
    assert owner.batch_id == "b0123456789abcde" and owner.pid == os.getpid()
    assert owner_of(".000001_pp.jpg.part") == PartOwner(None, None, None)


def test_only_parts_whose_writer_is_gone_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    host = owner_of(part_path(tmp_path / "x", "b1").name).host
    names = {
        f".a.pdf.b1.{host}.{dead_pid}.0123456789ab.part": True,  # this host, its process gone
        f".b.pdf.b1.{host}.{os.getpid()}.0123456789ab.part": False,  # this host, alive (us)
        ".c.pdf.bidle.elsewhere.7.0123456789ab.part": True,  # another host, nothing runs its batch
        ".d.pdf.bbusy.elsewhere.7.0123456789ab.part": False,  # another host, its batch is being run
        f".e.pdf.{NO_BATCH}.elsewhere.7.0123456789ab.part": False,  # another host, no batch: cannot tell
        ".f.pdf.part": True,  # written before parts were named by their writer
    }
    for name in names:
        (tmp_path / "2026").mkdir(exist_ok=True)
        (tmp_path / "2026" / name).write_bytes(b"%PDF-")
    (tmp_path / "2026" / "g.pdf").write_bytes(b"%PDF-")

    def idle(batch_id: str) -> bool:
        return batch_id != "bbusy"

    assert all(writer_is_gone(owner_of(n), idle) is gone for n, gone in names.items())
    removed = remove_stale_parts([tmp_path, tmp_path / "absent"], idle)
    assert sorted(p.name for p in removed) == sorted(n for n, gone in names.items() if gone)
    assert sorted(p.name for p in (tmp_path / "2026").iterdir()) == sorted(
        [*(n for n, gone in names.items() if not gone), "g.pdf"]
    )


def test_a_document_an_older_version_sent_to_review_for_its_pdfa_is_decided_again(tmp_path: Path) -> None:
    """Catalogues written before a PDF/A failure was the run's hold documents in review for it: re-decided."""
    from pipeline.run import ingest_batch
    from pipeline.settings import OcrSettings

    folder = tmp_path / "batch"
    folder.mkdir()
    good_jpeg(folder / "a.jpg")
    settings = Settings(home=tmp_path / "home", workers=1, ocr=OcrSettings(engine="null"), db_url=None)
    ingest_batch(folder, settings, show_progress=False)
    with open_store(settings.database_url) as store:
        (doc,) = store.documents(batch_id_for(folder))
        stale = [*doc.review_reasons, "PDF/A not written: ArchiveError: archive/2026: Permission denied"]
        store.update_document(doc.model_copy(update={"review_reasons": stale}))
    again = ingest_batch(folder, settings, show_progress=False)
    assert again.failed == [] and again.pages_processed_now == 0
    with open_store(settings.database_url) as store:
        (redone,) = store.documents(batch_id_for(folder))
    assert redone.review_reasons == doc.review_reasons and redone.status == doc.status


@pytest.fixture(autouse=True)
def _no_stray_runs() -> Iterator[None]:
    """Every run a test starts ends with it, whatever the test's outcome (a held run would wait for ever)."""
    yield
    while _started:
        run = _started.pop()
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait(timeout=30)
