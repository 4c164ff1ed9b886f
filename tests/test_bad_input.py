"""A batch full of broken files still gets processed: bad files end in quarantine with the reason."""

from pathlib import Path

import pytest

from pipeline.run import ingest_batch
from pipeline.settings import OcrSettings, Settings
from pipeline.store import open_store
from schemas.models import FileStatus
from tests.badfiles import good_jpeg, write_bad_files


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", workers=1, ocr=OcrSettings(engine="null"))


def test_bad_files_are_quarantined_and_the_rest_processed(tmp_path: Path, settings: Settings) -> None:
    batch = tmp_path / "batch"
    expected = write_bad_files(batch)
    good_jpeg(batch / "good.jpg")
    summary = ingest_batch(batch, settings, show_progress=False)

    reasons = {q.rel_path: q.reason for q in summary.quarantined}
    assert set(reasons) == set(expected)
    for name, words in expected.items():
        assert words in reasons[name], (name, reasons[name])
    assert summary.files == len(expected) + 1
    assert summary.pages == 1 and summary.documents == 1

    store = open_store(settings.database_url)
    try:
        statuses = {f.rel_path: f.status for f in store.source_files(summary.batch_id)}
        assert statuses["good.jpg"] is FileStatus.DONE
        assert len(store.records(summary.batch_id)) == 1
    finally:
        store.close()


def test_rerun_changes_nothing(tmp_path: Path, settings: Settings) -> None:
    batch = tmp_path / "batch"
    write_bad_files(batch)
    good_jpeg(batch / "good.jpg")
    first = ingest_batch(batch, settings, show_progress=False)
    second = ingest_batch(batch, settings, show_progress=False)
    assert second.pages_processed_now == 0
    assert (second.documents, len(second.quarantined)) == (first.documents, len(first.quarantined))
    store = open_store(settings.database_url)
    try:
        assert len(store.records()) == 1
    finally:
        store.close()


def test_our_own_failure_is_retried_on_the_next_run(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash on our side (here: in assembly) must not quarantine a good file for ever."""
    from pipeline import steps

    batch = tmp_path / "batch"
    batch.mkdir()
    good_jpeg(batch / "good.jpg")

    def broken(*_args: object) -> list[object]:
        raise RuntimeError("thresholds file changed under a running batch")

    real = steps.assemble_file
    monkeypatch.setattr(steps, "assemble_file", broken)
    first = ingest_batch(batch, settings, show_progress=False)
    assert first.quarantined == [] and [f.rel_path for f in first.failed] == ["good.jpg"]
    assert "RuntimeError" in first.failed[0].reason and first.documents == 0

    monkeypatch.setattr(steps, "assemble_file", real)
    second = ingest_batch(batch, settings, show_progress=False)
    assert second.failed == [] and second.documents == 1
    assert second.pages_processed_now == 0  # the pages recognised by the failed run are kept
