"""The hostile batch (tests/hostile/corpus.py) end to end through `dangan ingest`.

No crash; every good page ingested exactly once; every other entry in the summary by name with its
reason; nothing outside the batch ever opened (a FIFO that reports a reader, a file whose access time
is watched); duplicates recorded once, in the batch and across batches; a re-run changes nothing.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pipeline.ingest.names import name_text
from pipeline.store import CatalogueStore, open_store
from pipeline.summary import BatchSummary, summarize
from schemas.models import FileStatus
from tests.hostile.corpus import WATCHED_ATIME, Corpus, build_corpus, page_jpeg

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def reader_present(fifo: Path) -> bool:
    """Whether some process has `fifo` open for reading: a non-blocking writer gets ENXIO when none has."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as e:
        if e.errno == errno.ENXIO:
            return False
        raise
    os.close(fd)
    return True


class ReaderWatch(threading.Thread):
    """Polls FIFOs for a reader for as long as the pipeline runs."""

    def __init__(self, fifos: list[Path]) -> None:
        super().__init__(daemon=True)
        self.fifos, self.seen, self.polls = fifos, set[Path](), 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.seen.update(f for f in self.fifos if reader_present(f))
            self.polls += 1
            time.sleep(0.002)

    def __enter__(self) -> ReaderWatch:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.done.set()
        self.join(timeout=10)


@dataclass
class Run:
    proc: subprocess.CompletedProcess[str]
    summary: BatchSummary


def dangan_ingest(batch: Path, home: Path, db_url: str) -> Run:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DANGAN_HOME": str(home),
        "DANGAN_DB_URL": db_url,
        # The hostile batch tests ingest, not recognition: the null engine keeps it to seconds.
        "DANGAN_OCR__ENGINE": "null",
        "COLUMNS": "400",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "ingest", str(batch), "--workers", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    store = open_store(db_url)
    try:
        return Run(proc, _stored_summary(store, db_url, batch))
    finally:
        store.close()


def _stored_summary(store: CatalogueStore, db_url: str, batch: Path) -> BatchSummary:
    """The summary of the batch's latest run, as the catalogue keeps it."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            batch_id, run_id = conn.execute(
                text("SELECT r.batch_id, r.run_id FROM batch_runs r JOIN batches b ON b.batch_id = r.batch_id "
                     "WHERE b.root = :root ORDER BY r.started_at DESC LIMIT 1"),
                {"root": str(batch.resolve())},
            ).one()  # fmt: skip
    finally:
        engine.dispose()
    return summarize(store, batch_id, run_id)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return build_corpus(tmp_path_factory.mktemp("hostile") / "corpus")


@dataclass
class Outcome:
    corpus: Corpus
    db_url: str
    first: Run
    again: Run
    second: Run
    fifo_polls: int
    fifo_readers: set[Path]
    atime_after: float


@pytest.fixture(scope="module")
def outcome(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    home = tmp_path_factory.mktemp("hostile_home")
    db_url = f"sqlite:///{home / 'catalogue.sqlite'}"
    with ReaderWatch(corpus.fifos) as watch:
        first = dangan_ingest(corpus.batch, home, db_url)
        again = dangan_ingest(corpus.batch, home, db_url)
        second = dangan_ingest(corpus.second, home, db_url)
    return Outcome(corpus, db_url, first, again, second, watch.polls, watch.seen, os.stat(corpus.watched).st_atime)


@pytest.fixture
def store(outcome: Outcome) -> Iterator[CatalogueStore]:
    s = open_store(outcome.db_url)
    yield s
    s.close()


def test_the_reader_watch_and_the_atime_watch_can_see_a_read(tmp_path: Path) -> None:
    """The two detectors below are able to fail: a reader of a FIFO and a read of a file are seen."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert not reader_present(fifo)
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        assert reader_present(fifo)
    finally:
        os.close(fd)
    watched = tmp_path / "watched"
    watched.write_bytes(b"x")
    os.utime(watched, (WATCHED_ATIME, WATCHED_ATIME + 3600))
    watched.read_bytes()
    assert os.stat(watched).st_atime != WATCHED_ATIME


def test_nothing_outside_the_batch_is_opened(outcome: Outcome) -> None:
    assert outcome.fifo_polls > 50, "the FIFO watch did not run during the ingest"
    assert outcome.fifo_readers == set(), f"opened for reading: {outcome.fifo_readers}"
    assert outcome.atime_after == WATCHED_ATIME, "the file a link points at outside the batch was read"


def test_every_good_page_is_ingested_exactly_once(outcome: Outcome, store: CatalogueStore) -> None:
    c, summary = outcome.corpus, outcome.first.summary
    assert summary.failed == []
    files = {f.rel_path: f for f in store.source_files(summary.batch_id)}
    for name, pages in c.good.items():
        source = files.get(name)
        assert source is not None, f"{name} was not taken in"
        assert source.status is FileStatus.DONE, (name, source.status, source.error)
        recognised = store.pages(source.file_id)
        assert [p.page.page_no for p in recognised] == list(range(1, pages + 1)), name
        if name in c.not_blank:
            assert not recognised[0].preprocess.is_blank, f"{name}: its form was lost in decoding"
    assert summary.pages == sum(c.good.values())
    # Each good file's pages make documents, each document one record; no other file gave any.
    docs = store.documents(summary.batch_id)
    assert {d.rel_path for d in docs} == set(c.good)
    assert len(store.records(summary.batch_id)) == len(docs) == summary.documents


def test_every_bad_entry_is_in_the_summary_with_its_reason(outcome: Outcome) -> None:
    c, summary, out = outcome.corpus, outcome.first.summary, outcome.first.proc.stdout
    quarantined = {q.rel_path: q.reason for q in summary.quarantined}
    assert set(quarantined) == set(c.quarantined)
    for name, words in c.quarantined.items():
        assert words in quarantined[name], (name, quarantined[name])
    skipped = {s.rel_path: s.reason for s in summary.skipped if s.row is None}
    assert set(skipped) == set(c.skipped)
    for name, words in c.skipped.items():
        assert words in skipped[name], (name, skipped[name])
    rows = {(s.rel_path, s.row): s.reason for s in summary.skipped if s.row is not None}
    assert set(rows) == set(c.bad_rows)
    for key, words in c.bad_rows.items():
        assert words in rows[key], (key, rows[key])
    notes = {n.rel_path: n.reason for n in summary.notes}
    assert set(notes) == set(c.notes)
    for name, words in c.notes.items():
        assert words in notes[name] and "never" not in notes[name] and "none of it reaches" in notes[name]
    # `dangan ingest` prints every one of them by name, markup in a name shown as it is.
    for name in [*c.quarantined, *c.skipped, *c.duplicates, *c.notes]:
        assert name in out, f"{name} missing from the printed summary"


def test_duplicates_are_recorded_once(outcome: Outcome, store: CatalogueStore) -> None:
    c, summary = outcome.corpus, outcome.first.summary
    duplicates = {d.rel_path: d.reason for d in summary.duplicates}
    assert set(duplicates) == set(c.duplicates)
    for name, words in c.duplicates.items():
        assert words in duplicates[name], (name, duplicates[name])
    files = {f.rel_path: f for f in store.source_files(summary.batch_id)}
    for name in c.duplicates:
        assert store.pages(files[name].file_id) == []
        original = next(f for f in files.values() if f.file_id == files[name].duplicate_of)
        assert original.status is FileStatus.DONE and original.sha256 == files[name].sha256


def test_a_later_batch_records_a_copy_once(outcome: Outcome, store: CatalogueStore) -> None:
    c, first, second = outcome.corpus, outcome.first.summary, outcome.second.summary
    duplicates = {d.rel_path: d.reason for d in second.duplicates}
    assert set(duplicates) == set(c.second_duplicates)
    for name, words in c.second_duplicates.items():
        assert words in duplicates[name] and first.batch_id in duplicates[name]
    assert {d.rel_path for d in store.documents(second.batch_id)} == set(c.second_good)
    assert second.pages == sum(c.second_good.values())


def test_a_rerun_changes_nothing(outcome: Outcome) -> None:
    first, again = outcome.first.summary, outcome.again.summary
    assert again.pages_processed_now == 0
    keep = {"pages_processed_now", "seconds", "finished"}
    assert again.model_dump(exclude=keep) == first.model_dump(exclude=keep)


def test_no_entry_of_the_batch_vanishes(outcome: Outcome) -> None:
    """Every entry of the folder is a good file, or named in the summary."""
    c, summary = outcome.corpus, outcome.first.summary
    named = (
        set(c.good)
        | {q.rel_path for q in summary.quarantined}
        | {s.rel_path for s in summary.skipped}
        | {d.rel_path for d in summary.duplicates}
    )
    for dirpath, dirnames, filenames in os.walk(os.fsencode(c.batch)):
        for name in [*dirnames, *filenames]:
            rel = os.path.relpath(os.path.join(dirpath, name), os.fsencode(c.batch))
            if os.path.isdir(os.path.join(dirpath, name)) and not os.path.islink(os.path.join(dirpath, name)):
                continue
            assert name_text(rel) in named, name_text(rel)


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_duplicates_across_batches_on_either_catalogue(db: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    db_url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}" if db == "sqlite" else str(request.getfixturevalue("pg_url"))
    scan = page_jpeg(70)
    first_batch, later = tmp_path / "box1", tmp_path / "box2"
    for folder in (first_batch, later):
        folder.mkdir()
    (first_batch / "a.jpg").write_bytes(scan)
    (first_batch / "a_twice.jpg").write_bytes(scan)
    (later / "a_rescanned.jpg").write_bytes(scan)
    (later / "b.jpg").write_bytes(page_jpeg(71))
    one = dangan_ingest(first_batch, tmp_path / "home", db_url).summary
    two = dangan_ingest(later, tmp_path / "home", db_url).summary
    assert [d.rel_path for d in one.duplicates] == ["a_twice.jpg"]
    assert "duplicate of a.jpg (the same bytes)" in one.duplicates[0].reason
    assert [d.rel_path for d in two.duplicates] == ["a_rescanned.jpg"]
    assert f"duplicate of a.jpg in batch {one.batch_id}" in two.duplicates[0].reason
    assert (one.documents, two.documents) == (1, 1)
    store = open_store(db_url)
    try:
        assert len(store.records()) == 2
    finally:
        store.close()
