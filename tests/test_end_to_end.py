"""A synthetic batch through every stage with the real engines: records, PDF/A files, search, export."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from pipeline.archive.legibility import FieldAgreement, reread_document
from pipeline.archive.pdfa import image_dpis, sha256_file
from pipeline.export import export_jsonl
from pipeline.ocr.factory import get_engine
from pipeline.run import ingest_batch
from pipeline.search import open_search
from pipeline.settings import Settings
from pipeline.store import CatalogueStore, open_store
from pipeline.summary import BatchSummary
from schemas.registry import get_registry
from synth import GroundTruth, generate_batch

pytestmark = [pytest.mark.ocr, pytest.mark.slow]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, GroundTruth, BatchSummary, Path]]:
    root = tmp_path_factory.mktemp("e2e")
    batch = root / "batch"
    truth = generate_batch(batch, 3, 4242, "mixed")
    settings = Settings(home=root / "home", workers=2)
    summary = ingest_batch(batch, settings, show_progress=False)
    yield settings, truth, summary, batch


@pytest.fixture
def store(run: tuple[Settings, GroundTruth, BatchSummary, Path]) -> Iterator[CatalogueStore]:
    s = open_store(run[0].database_url)
    yield s
    s.close()


def test_every_document_becomes_a_record(run, store) -> None:
    _settings, truth, summary, _batch = run
    assert summary.quarantined == []
    assert summary.documents == len(truth.documents)
    records = store.records(summary.batch_id)
    assert len(records) == len(truth.documents)
    assert len({r.archive_no for r in records}) == len(records)
    docs = {(d.rel_path, d.first_page): d for d in store.documents(summary.batch_id)}
    right_forms = sum(
        1
        for t in truth.documents
        if (d := docs.get((t.source_file, t.first_page))) and d.classification and d.classification.label == t.form_id
    )
    assert right_forms >= len(truth.documents) - 1


def test_pdfa_files_are_preservation_grade(run, store) -> None:
    _settings, _truth, summary, _batch = run
    for record in store.records(summary.batch_id):
        assert record.pdfa_path and Path(record.pdfa_path).name == record.file_name
        path = Path(record.pdfa_path)
        assert sha256_file(path) == record.sha256
        with pikepdf.open(path) as pdf:
            meta = pdf.open_metadata()
            assert meta.pdfa_status in ("2B", "2U")
            for x_dpi, y_dpi in image_dpis(pdf):
                assert abs(x_dpi - 300) < 1 and abs(y_dpi - 300) < 1
        text = "".join(page.extract_text() for page in PdfReader(path).pages)
        assert "\x00" not in text
        squeezed = re.sub(r"\s+", "", text)
        if record.title != "未识别材料":
            # The title is printed on the form (maybe with a region prefix) and must come out whole.
            assert record.title[-5:] in squeezed, (record.title, squeezed[:200])
            assert record.title[-5:] in text


def test_archived_pages_are_compact_and_read_as_the_working_pages(run, store) -> None:
    """The archive holds JPEG / CCITT G4 pages, not lossless ones, and the real engine reads the same field
    values from the archived PDF/A pages as it read from the working pages."""
    settings, _truth, summary, _batch = run
    registry = get_registry()
    engine = get_engine(settings.ocr)
    total = FieldAgreement(compared=0, agreed=0)
    for record in store.records(summary.batch_id):
        assert record.pdfa_path is not None
        with pikepdf.open(record.pdfa_path) as pdf:
            filters = {str(im.Filter) for page in pdf.pages for im in page.get_images().values()}
        assert filters <= {"/DCTDecode", "/CCITTFaxDecode"}
        doc = store.get_document(record.doc_id)
        assert doc is not None
        if doc.classification and doc.classification.label:
            total = total + reread_document(
                Path(record.pdfa_path), doc, registry.form(doc.classification.label), engine
            )
    assert total.compared >= 10
    assert total.rate >= 0.95, total.differing


def test_search_finds_records_by_text_and_id(run, store) -> None:
    settings, _truth, summary, _batch = run
    backend = open_search(settings)
    record = next(r for r in store.records(summary.batch_id) if r.person_id)
    hits = backend.search(record.title)
    assert any(h.record_id == record.record_id for h in hits)
    if record.person_id and len(record.person_id) == 18:
        assert [h.record_id for h in backend.search(id_number=record.person_id)][:1] == [record.record_id]


def test_export_shape(run, store, tmp_path: Path) -> None:
    _settings, truth, _summary, _batch = run
    out = tmp_path / "records.jsonl"
    assert export_jsonl(store, out) == len(truth.documents)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        assert set(row) >= {
            "record_id",
            "source_file",
            "first_page",
            "last_page",
            "form_title",
            "form_confidence",
            "status",
            "archive_no",
            "pdfa_path",
            "fields",
        }
        assert "\\" not in row["source_file"] and row["status"] in ("accepted", "review")
        date_field = row["fields"].get("form_date")
        if date_field and date_field["value"] and date_field["status"] == "accepted":
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", date_field["value"])


def test_rerun_resumes_without_doubling(run, store) -> None:
    settings, _truth, summary, batch = run
    before = {r.record_id: r.archive_no for r in store.records(summary.batch_id)}
    again = ingest_batch(batch, settings, show_progress=False)
    assert again.pages_processed_now == 0
    after = {r.record_id: r.archive_no for r in store.records(summary.batch_id)}
    assert after == before
