"""A file separated differently on re-processing: the PDF/A of a document it no longer yields is removed."""

from __future__ import annotations

from pathlib import Path

from pipeline.context import RunContext
from pipeline.jobs import FileJob
from pipeline.settings import Settings
from pipeline.steps import ASSEMBLE_FILES
from pipeline.store import open_store
from tests.test_store import FILE_A, make_batch, make_doc, make_file, make_record


def test_pdfa_of_a_document_no_longer_produced_is_removed_and_audited(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    ctx = RunContext.create(settings, "B2024-001", tmp_path / "batch")
    store = open_store(f"sqlite:///{tmp_path / 'catalogue.sqlite'}")
    try:
        store.upsert_batch(make_batch())
        source = make_file("box1/a.pdf", FILE_A)
        store.upsert_source_file(source)
        store.replace_documents(
            "B2024-001",
            FILE_A,
            [make_doc("d1", first=1, last=1), make_doc("d2", first=2, last=2), make_doc("d3", first=3, last=3)],
        )
        paths = {}
        for i, doc_id in enumerate(("d1", "d2"), start=1):
            path = ctx.archive_pdf(2019, f"2019-YL-{doc_id}.pdf")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"%PDF-1.7 stand-in")
            paths[doc_id] = path
            store.save_record(
                make_record(f"r{i}", doc_id, f"2019-YL-1-{i}").model_copy(
                    update={"pdfa_path": str(path), "file_name": path.name}
                )
            )
        # a path outside the archive (a hand-edited catalogue) is never deleted
        outside = tmp_path / "elsewhere.pdf"
        outside.write_bytes(b"not ours")
        store.save_record(
            make_record("r3", "d3", "2019-YL-1-3").model_copy(update={"pdfa_path": str(outside), "file_name": "x.pdf"})
        )

        # re-processed: d1 is still produced, d2 is not
        ASSEMBLE_FILES.save(
            store, ctx, FileJob(file_id=FILE_A, rel_path=source.rel_path), [make_doc("d1", first=1, last=3)]
        )

        assert paths["d1"].exists()
        assert not paths["d2"].exists()
        events = store.audit_events(record_id="r2")
        assert [e.action for e in events] == ["pdfa_removed"]
        assert events[0].old == "2019-YL-d2.pdf" and "no longer produced" in (events[0].why or "")
        assert outside.exists() and store.audit_events(record_id="r3") == []
    finally:
        store.close()
