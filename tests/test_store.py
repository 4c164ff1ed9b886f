"""The catalogue store against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from pipeline.errors import StoreConflictError, StoreError
from pipeline.store import CatalogueStore, mask_url, open_store
from pipeline.store.migrate import MIGRATIONS_DIR, alembic_config
from pipeline.store.tables import Base
from schemas.models import (
    ArchiveRecord,
    AuditEvent,
    Batch,
    BatchManifest,
    Classification,
    Document,
    DocumentStatus,
    ExtractedField,
    FieldStatus,
    FileKind,
    FileStatus,
    OcrPage,
    PageKind,
    PageRef,
    PageResult,
    PreprocessInfo,
    QcTask,
    Retention,
    SourceFile,
    Word,
)

T0 = datetime(2024, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)
FILE_A = "a" * 64
FILE_B = "b" * 64


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nested' / 'catalogue.sqlite'}"
    # Requested lazily so SQLite-only runs (-m 'not postgres') never touch the server.
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[CatalogueStore]:
    s = open_store(db_url)
    try:
        yield s
    finally:
        s.close()


# -- model factories ----------------------------------------------------------------------


def make_batch(batch_id: str = "B2024-001") -> Batch:
    manifest = BatchManifest(box_no="盒-07", fonds_no="J012", year=2024, operator="王敏", scan_date=date(2024, 3, 1))
    return Batch(batch_id=batch_id, root="/scans/B2024-001", manifest=manifest, created_at=T0)


def make_file(rel_path: str, file_id: str, batch_id: str = "B2024-001", pages: int = 3) -> SourceFile:
    return SourceFile(
        file_id=file_id,
        batch_id=batch_id,
        rel_path=rel_path,
        kind=FileKind.PDF,
        size=123_456,
        sha256=file_id,
        page_count=pages,
        status=FileStatus.DONE,
    )


def make_page(file_id: str, page_no: int, rel_path: str = "box1/a.pdf") -> PageResult:
    return PageResult(
        page=PageRef(
            file_id=file_id,
            rel_path=rel_path,
            page_no=page_no,
            image_path=f"/work/run/{file_id[:8]}/{page_no:06d}_pre.png",
            source_dpi=200.0,
            width=2480,
            height=3508,
        ),
        preprocess=PreprocessInfo(rotation=90, skew_degrees=-0.37, upsampled_from_dpi=200.0),
        ocr=OcrPage(
            engine="rapidocr",
            engine_version="1.4.4",
            width=2480,
            height=3508,
            words=[Word(text="城镇职工基本养老保险参保登记表", box=(100, 120, 1400, 180), confidence=0.9731)],
        ),
        kind=PageKind.FORM,
        seconds_ocr=1.25,
        seconds_total=1.4,
    )


def make_doc(
    doc_id: str, file_id: str = FILE_A, first: int = 1, last: int = 2, batch_id: str = "B2024-001"
) -> Document:
    return Document(
        doc_id=doc_id,
        batch_id=batch_id,
        file_id=file_id,
        rel_path="box1/a.pdf" if file_id == FILE_A else "box1/b.pdf",
        first_page=first,
        last_page=last,
        page_kinds=[PageKind.FORM] + [PageKind.ATTACHMENT] * (last - first),
        classification=Classification(label="yl-cbdj", confidence=0.987, model_version="ens-3"),
        form_title="参保登记表",
        fields=[
            ExtractedField(
                key="id_number",
                label="公民身份号码",
                value="11010519491231002X",
                normalized="11010519491231002X",
                confidence=0.991,
                page_no=1,
                box=(300, 400, 900, 440),
                status=FieldStatus.ACCEPTED,
            ),
            ExtractedField(key="name", label="姓名", value="张三", normalized="张三", confidence=0.62, page_no=1,
                           box=(300, 460, 420, 500), reasons=["low_confidence"]),
            ExtractedField(key="name", label="姓名", value=None, status=FieldStatus.MISSING),
        ],
        status=DocumentStatus.REVIEW,
        review_reasons=["name: low_confidence"],
    )  # fmt: skip


def make_record(record_id: str, doc_id: str, archive_no: str) -> ArchiveRecord:
    return ArchiveRecord(
        record_id=record_id,
        doc_id=doc_id,
        archive_no=archive_no,
        person_id="11010519491231002X",
        title="城镇职工基本养老保险参保登记表",
        form_date=date(2019, 6, 30),
        scan_date=date(2024, 3, 1),
        scanner="王敏",
        handler="李四",
        remarks="附身份证复印件",
        category="养老保险",
        insurance_type="企业职工基本养老保险",
        business_step="参保登记",
        retention=Retention.Y100,
        destroy_after=date(2120, 1, 1),
        pdfa_path="/archive/2019/2019-YL-11010519491231002X-参保登记表.pdf",
        file_name="2019-YL-11010519491231002X-参保登记表.pdf",
        sha256="c" * 64,
    )


def make_task(task_id: str, doc_id: str, minutes: int = 0) -> QcTask:
    return QcTask(
        task_id=task_id,
        doc_id=doc_id,
        reasons=["name: low_confidence"],
        fields=["name"],
        created_at=T0 + timedelta(minutes=minutes),
    )


def seed(store: CatalogueStore) -> None:
    """One batch, two files, pages, documents, records, QC tasks: a small processed batch."""
    store.upsert_batch(make_batch())
    store.upsert_source_file(make_file("box1/a.pdf", FILE_A))
    store.upsert_source_file(make_file("box1/b.pdf", FILE_B, pages=1))
    for n in (3, 1, 2):
        store.save_page("B2024-001", make_page(FILE_A, n))
    store.save_page("B2024-001", make_page(FILE_B, 1, "box1/b.pdf"))
    store.replace_documents("B2024-001", FILE_A, [make_doc("d1", first=1, last=2), make_doc("d2", first=3, last=3)])
    store.replace_documents("B2024-001", FILE_B, [make_doc("d3", file_id=FILE_B, first=1, last=1)])
    for i, doc_id in enumerate(("d1", "d2", "d3"), start=1):
        store.save_record(make_record(f"r{i}", doc_id, f"2019-YL-1-{i}"))
    store.upsert_qc_task(make_task("t1", "d1"))
    store.upsert_qc_task(make_task("t2", "d2", minutes=1))


# -- schema ---------------------------------------------------------------------------------


def test_migrations_create_the_schema_the_models_describe(db_url: str) -> None:
    open_store(db_url).close()
    # Opening again (a second worker) finds the schema at head and changes nothing.
    open_store(db_url).close()
    engine = create_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) | {"alembic_version"} <= tables
        script = ScriptDirectory.from_config(alembic_config())
        assert len(script.get_heads()) == 1  # one linear chain of migrations
        head = script.get_current_head()
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            versions = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("0*.py"))
            assert head is not None and ctx.get_current_revision() == head == versions[-1][:4], "one linear chain"
            from alembic.autogenerate import compare_metadata

            assert compare_metadata(ctx, Base.metadata) == []
    finally:
        engine.dispose()


def test_sqlite_uses_wal_and_creates_the_parent_folder(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "catalogue.sqlite"
    open_store(f"sqlite:///{path}").close()
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


# -- idempotent writes ----------------------------------------------------------------------


def test_running_every_write_twice_changes_nothing(store: CatalogueStore) -> None:
    seed(store)
    first = (store.stats("B2024-001"), store.documents(), store.records(), store.qc_tasks(), store.pages(FILE_A))
    seed(store)
    second = (store.stats("B2024-001"), store.documents(), store.records(), store.qc_tasks(), store.pages(FILE_A))
    assert second == first
    assert first[0] == {
        "files": 2, "files_pending": 0, "files_done": 2, "files_quarantined": 0, "pages": 4,
        "documents": 3, "documents_accepted": 0, "documents_review": 3, "fields": 9, "fields_review": 3,
        "records": 3, "qc_open": 2, "qc_claimed": 0, "qc_done": 0,
    }  # fmt: skip


def test_batch_and_source_files_round_trip(store: CatalogueStore) -> None:
    seed(store)
    assert store.get_batch("B2024-001") == make_batch()
    assert store.get_batch("nope") is None
    assert [f.rel_path for f in store.source_files("B2024-001")] == ["box1/a.pdf", "box1/b.pdf"]
    assert store.get_source_file("B2024-001", "box1/a.pdf") == make_file("box1/a.pdf", FILE_A)
    # A file rescanned in place: same path, new content -> the row follows the new hash.
    rescanned = make_file("box1/a.pdf", "e" * 64).model_copy(update={"status": FileStatus.QUARANTINED,
                                                                     "error": "encrypted PDF"})  # fmt: skip
    store.upsert_source_file(rescanned)
    assert store.get_source_file("B2024-001", "box1/a.pdf") == rescanned
    assert len(store.source_files("B2024-001")) == 2


def test_pages_come_back_in_order_and_intact(store: CatalogueStore) -> None:
    seed(store)
    pages = store.pages(FILE_A)
    assert [p.page.page_no for p in pages] == [1, 2, 3]
    assert pages[0] == make_page(FILE_A, 1)
    assert store.pages("f" * 64) == []


# -- documents ------------------------------------------------------------------------------


def test_documents_round_trip_with_their_fields(store: CatalogueStore) -> None:
    seed(store)
    assert store.get_document("d1") == make_doc("d1", first=1, last=2)
    assert [d.doc_id for d in store.documents("B2024-001")] == ["d1", "d2", "d3"]
    assert store.documents("other-batch") == []
    accepted = make_doc("d2", first=3, last=3).model_copy(update={"status": DocumentStatus.ACCEPTED})
    store.update_document(accepted)
    assert store.documents(status=DocumentStatus.ACCEPTED) == [accepted]
    assert [d.doc_id for d in store.documents(status="review")] == ["d1", "d3"]


def test_replace_documents_removes_what_a_file_no_longer_yields(store: CatalogueStore) -> None:
    seed(store)
    # Re-separation of file A: d1 still yields (with a corrected field), d2 is gone, d4 is new.
    d1 = make_doc("d1", first=1, last=1)
    d1.fields[1] = d1.fields[1].model_copy(update={"value": "张叁", "status": FieldStatus.CORRECTED})
    store.replace_documents("B2024-001", FILE_A, [d1, make_doc("d4", first=2, last=3)])

    assert [d.doc_id for d in store.documents("B2024-001")] == ["d1", "d4", "d3"]
    assert store.get_document("d1") == d1
    assert store.get_document("d2") is None
    assert store.record_for_doc("d2") is None and store.get_record("r2") is None
    assert [t.task_id for t in store.qc_tasks()] == ["t1"]
    # What is still produced keeps its record; the other file is untouched.
    assert store.get_record("r1") == make_record("r1", "d1", "2019-YL-1-1")
    assert store.get_document("d3") == make_doc("d3", file_id=FILE_B, first=1, last=1)
    assert store.stats("B2024-001")["fields"] == 9

    store.replace_documents("B2024-001", FILE_A, [])
    assert [d.doc_id for d in store.documents()] == ["d3"]


def test_replace_documents_rejects_a_document_of_another_file(store: CatalogueStore) -> None:
    seed(store)
    with pytest.raises(ValueError, match="d9"):
        store.replace_documents("B2024-001", FILE_A, [make_doc("d9", file_id=FILE_B)])
    assert store.get_document("d1") is not None


def test_update_of_a_document_that_was_re_derived_away_is_a_conflict(store: CatalogueStore) -> None:
    seed(store)
    store.replace_documents("B2024-001", FILE_A, [])
    with pytest.raises(StoreConflictError, match="d1"):
        store.update_document(make_doc("d1"))
    assert store.get_document("d1") is None


# -- records --------------------------------------------------------------------------------


def test_records_round_trip_exactly(store: CatalogueStore) -> None:
    seed(store)
    rec = make_record("r1", "d1", "2019-YL-1-1")
    got = store.get_record("r1")
    assert got == rec
    assert got is not None and got.model_dump_json() == rec.model_dump_json()
    assert store.record_for_doc("d1") == rec
    assert [r.record_id for r in store.records("B2024-001")] == ["r1", "r2", "r3"]
    assert store.records("other-batch") == []
    permanent = rec.model_copy(update={"retention": Retention.PERMANENT, "destroy_after": None, "remarks": None})
    store.save_record(permanent)
    assert store.get_record("r1") == permanent
    assert len(store.records()) == 3


def test_a_second_record_with_a_taken_archive_number_is_refused(store: CatalogueStore) -> None:
    seed(store)
    store.replace_documents("B2024-001", FILE_B, [make_doc("d3", file_id=FILE_B), make_doc("d5", file_id=FILE_B)])
    with pytest.raises(StoreError, match="save record"):
        store.save_record(make_record("r5", "d5", "2019-YL-1-1"))
    assert store.get_record("r5") is None


# -- QC queue -------------------------------------------------------------------------------


def test_qc_queue_claims_oldest_first_and_guards_completion(store: CatalogueStore) -> None:
    seed(store)
    first = store.claim_next_qc_task("alice")
    assert first is not None and (first.task_id, first.status, first.claimed_by) == ("t1", "claimed", "alice")
    # A re-run of the decide stage refreshes the task but does not reopen it.
    store.upsert_qc_task(make_task("t1", "d1").model_copy(update={"reasons": ["id_number: checksum"]}))
    t1 = store.qc_tasks("claimed")[0]
    assert (t1.reasons, t1.claimed_by) == (["id_number: checksum"], "alice")

    second = store.claim_next_qc_task("bob")
    assert second is not None and second.task_id == "t2"
    assert store.claim_next_qc_task("carol") is None

    with pytest.raises(StoreConflictError, match="alice"):
        store.complete_qc_task("t1", "bob")
    store.complete_qc_task("t1", "alice")
    store.complete_qc_task("t1", "alice")  # a double click
    with pytest.raises(StoreConflictError, match="does not exist"):
        store.complete_qc_task("t404", "alice")

    store.release_qc_task("t2", "bob")
    again = store.claim_next_qc_task("carol")
    assert again is not None and (again.task_id, again.claimed_by) == ("t2", "carol")
    assert [(t.task_id, t.status) for t in store.qc_tasks()] == [("t1", "done"), ("t2", "claimed")]
    assert store.stats("B2024-001")["qc_done"] == 1


def test_concurrent_reviewers_never_get_the_same_task(db_url: str) -> None:
    n_tasks = 40
    with open_store(db_url) as setup:
        setup.upsert_batch(make_batch())
        setup.replace_documents("B2024-001", FILE_A, [make_doc(f"d{i:02d}", first=i, last=i) for i in range(1, 41)])
        for i in range(1, n_tasks + 1):
            setup.upsert_qc_task(make_task(f"t{i:02d}", f"d{i:02d}"))  # same created_at: ties too

    claimed: dict[str, list[str]] = {"r1": [], "r2": []}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def review(name: str) -> None:
        # Each reviewer its own store: its own engine, pool and database connection.
        try:
            with open_store(db_url) as mine:
                start.wait()
                while (task := mine.claim_next_qc_task(name)) is not None:
                    claimed[name].append(task.task_id)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=review, args=(name,)) for name in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    all_claims = claimed["r1"] + claimed["r2"]
    assert len(all_claims) == len(set(all_claims)) == n_tasks
    with open_store(db_url) as check:
        by_task = {t.task_id: t.claimed_by for t in check.qc_tasks("claimed")}
    assert by_task == {tid: name for name, tids in claimed.items() for tid in tids}


def test_several_workers_open_a_fresh_sqlite_file_and_write_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker(w: int) -> None:
        try:
            start.wait()
            with open_store(url) as s:  # all four migrate the same new file concurrently
                s.upsert_batch(make_batch())
                for i in range(15):
                    s.upsert_source_file(make_file(f"w{w}/{i:03d}.pdf", f"{w:02d}{i:062d}"))
                    s.save_page("B2024-001", make_page(f"{w:02d}{i:062d}", 1))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    with open_store(url) as s:
        stats = s.stats("B2024-001")
    assert (stats["files"], stats["pages"]) == (60, 60)


# -- audit ----------------------------------------------------------------------------------


def test_audit_events_are_ordered_filtered_and_not_doubled(store: CatalogueStore) -> None:
    seed(store)
    cst = timezone(timedelta(hours=8))
    late = AuditEvent(at=T0 + timedelta(minutes=5), actor="alice", action="correct", record_id="r1", doc_id="d1",
                      field="name", old="张叁", new="张三", why="字迹清楚")  # fmt: skip
    early = AuditEvent(at=T0.astimezone(cst), actor="system", action="ingest", doc_id="d1")
    view = AuditEvent(at=T0 + timedelta(minutes=1), actor="counter-01", action="view", record_id="r2", doc_id="d2")
    for event in (late, early, view, late):  # the last one: a retried task replays its event
        store.record_audit(event)

    assert store.audit_events() == [early, view, late]
    assert store.audit_events(doc_id="d1") == [early, late]
    assert store.audit_events(record_id="r1") == [late]
    assert store.audit_events(record_id="r1", doc_id="d2") == []
    # The same instant written in another zone is the same event.
    store.record_audit(early.model_copy(update={"at": T0}))
    assert len(store.audit_events()) == 3
    # Audit history outlives the documents it speaks of.
    store.replace_documents("B2024-001", FILE_A, [])
    assert len(store.audit_events(doc_id="d1")) == 2


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expect"),
    [
        ("postgresql+psycopg://postgres:s3cret@127.0.0.1:1/nowhere", "cannot open catalogue database"),
        ("mysql://root:s3cret@localhost/x", "unsupported database"),
        ("this is not a url :s3cret@", "cannot parse database URL"),
        ("sqlite:////proc/no-such-dir/catalogue.sqlite", "cannot open database"),
    ],
)
def test_a_bad_url_raises_store_error_without_the_password(url: str, expect: str) -> None:
    with pytest.raises(StoreError) as info:
        open_store(url)
    assert expect in info.value.message
    assert "s3cret" not in info.value.message
    assert info.value.exit_code == StoreError.exit_code


def test_mask_url_hides_passwords() -> None:
    assert mask_url("postgresql+psycopg://u:pw@h:5432/db") == "postgresql+psycopg://u:***@h:5432/db"
    assert mask_url("sqlite:///x.sqlite") == "sqlite:///x.sqlite"


def test_re_deriving_a_file_keeps_what_a_reviewer_corrected(store: CatalogueStore) -> None:
    seed(store)
    reviewed = make_doc("d1", first=1, last=2)
    reviewed.fields[1] = reviewed.fields[1].model_copy(
        update={"value": "张叁", "normalized": "张叁", "status": FieldStatus.CORRECTED, "confidence": 1.0}
    )
    store.update_document(reviewed)
    # the file is processed again (a retried failure, a newer extractor): the machine reads 张三 again
    again = make_doc("d1", first=1, last=2)
    store.replace_documents("B2024-001", FILE_A, [again, make_doc("d2", first=3, last=3)])
    got = store.get_document("d1")
    assert got is not None
    assert got.fields[1].value == "张叁" and got.fields[1].status is FieldStatus.CORRECTED
    assert got.fields[0] == again.fields[0]  # the accepted ID stays the machine's
    assert got.fields[2] == again.fields[2]  # the second 姓名 (another applicant) is not the corrected one
