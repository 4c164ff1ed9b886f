"""A small archive and one account per role, for the review application's tests and bench.

Two people: A (张三) with two records, B (李四) with one whose text also names 张三, so a search
for 张三 finds B's record in the index: the insured A must still never see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from stdnum.cn import ric

from pipeline.search import SearchDoc, open_search
from pipeline.settings import Settings
from pipeline.store import CatalogueStore
from pipeline.store.accounts import AccountStore
from review.security import hash_password
from schemas.access import Role, User
from schemas.models import (
    ArchiveRecord,
    Batch,
    BatchManifest,
    Classification,
    Document,
    DocumentStatus,
    ExtractedField,
    FieldStatus,
    Retention,
    Word,
)

T0 = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
PASSWORD = "correct horse battery"


def valid_id(prefix17: str) -> str:
    # stdnum wants a placeholder where the check digit goes.
    return prefix17 + ric.calc_check_digit(prefix17 + "0")


ID_A = valid_id("11010519491231002")
ID_B = valid_id("31010119800506123")
BATCH = "B2024-001"
ROLES = {
    "admin": Role.ADMIN,
    "archivist": Role.ARCHIVIST,
    "reviewer": Role.REVIEWER,
    "counter": Role.COUNTER,
    "insured": Role.INSURED,
}


@dataclass(frozen=True)
class World:
    settings: Settings
    pdf_a: Path


def _doc(doc_id: str, name: str, id_number: str, status: DocumentStatus) -> Document:
    return Document(
        doc_id=doc_id,
        batch_id=BATCH,
        file_id=doc_id.ljust(64, "0"),
        rel_path=f"box1/{doc_id}.pdf",
        first_page=1,
        last_page=1,
        classification=Classification(label="yl-cbdj", confidence=0.99, model_version="test"),
        form_title="城镇职工基本养老保险参保登记表",
        fields=[
            ExtractedField(key="name", label="姓名", value=name, normalized=name, confidence=0.97, page_no=1,
                           box=(300, 460, 420, 500), status=FieldStatus.ACCEPTED),
            ExtractedField(key="id_number", label="公民身份号码", value=id_number, normalized=id_number,
                           confidence=0.99, page_no=1, box=(300, 400, 900, 440), status=FieldStatus.ACCEPTED),
        ],
        status=status,
    )  # fmt: skip


def _record(record_id: str, doc_id: str, n: int, person: str, pdf: Path | None) -> ArchiveRecord:
    return ArchiveRecord(
        record_id=record_id,
        doc_id=doc_id,
        archive_no=f"2019-YL-001-{n:04d}",
        person_id=person,
        title="城镇职工基本养老保险参保登记表",
        form_date=date(2019, 6, min(n, 28)),
        scan_date=date(2024, 3, 1),
        retention=Retention.Y100,
        pdfa_path=str(pdf) if pdf else None,
        file_name=f"2019-YL-{person}-参保登记表-{n}.pdf",
    )


def build_world(store: CatalogueStore, home: Path, db_url: str) -> World:
    settings = Settings(home=home, db_url=db_url)
    store.upsert_batch(Batch(batch_id=BATCH, root="/scans/b", manifest=BatchManifest(year=2019), created_at=T0))
    pdf = home / "archive" / "a1.pdf"
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.write_bytes(b"%PDF-1.7\n% A's record\n%%EOF\n")
    pdf_b = home / "archive" / "b1.pdf"
    pdf_b.write_bytes(b"%PDF-1.7\n% B's record\n%%EOF\n")
    docs = [
        (_doc("da1", "张三", ID_A, DocumentStatus.ACCEPTED), _record("ra1", "da1", 1, ID_A, pdf), "张三 参保登记"),
        (_doc("da2", "张三", ID_A, DocumentStatus.ACCEPTED), _record("ra2", "da2", 2, ID_A, None), "张三 缴费"),
        # B's form names A as the 经办人: the index finds it for 张三 and for A's number.
        (_doc("db1", "李四", ID_B, DocumentStatus.ACCEPTED), _record("rb1", "db1", 3, ID_B, pdf_b),
         f"李四 {ID_B} 经办人 张三 {ID_A}"),
    ]  # fmt: skip
    index = open_search(settings)
    try:
        for doc, record, text in docs:
            store.replace_documents(BATCH, doc.file_id, [doc])
            store.save_record(record)
            index.index(
                [
                    SearchDoc.from_record(
                        record,
                        form_id="yl-cbdj",
                        status=doc.status,
                        text=text,
                        fields={f.key: f.normalized for f in doc.fields},
                    )
                ]
            )
    finally:
        index.close()
    accounts = AccountStore(store.engine)
    password_hash = hash_password(PASSWORD)
    for username, role in ROLES.items():
        accounts.add_user(
            User(username=username, display_name=username.title(), role=role,
                 id_number=ID_A if role is Role.INSURED else None, created_at=T0),
            password_hash,
        )  # fmt: skip
    return World(settings=settings, pdf_a=pdf)


# -- the review queue ---------------------------------------------------------------------------
# Documents in review on form personal_registration (个人注册登记表): an ID number misread by one
# digit (fails GB 11643), a name below threshold, and the required form date missing.

REVIEW_FORM = "personal_registration"
ID_C = valid_id("44030419850712345")
ID_C_MISREAD = ID_C[:5] + str((int(ID_C[5]) + 1) % 10) + ID_C[6:]
PAGE_SIZE = (1240, 1754)


def _page_image(path: Path) -> None:
    from PIL import Image, ImageDraw

    img = Image.new("L", PAGE_SIZE, 255)
    draw = ImageDraw.Draw(img)
    for box in (ID_BOX, NAME_BOX, DATE_BOX):
        draw.rectangle(box, outline=0, width=3)
        draw.line((box[0] + 10, (box[1] + box[3]) // 2, box[2] - 10, (box[1] + box[3]) // 2), fill=60, width=5)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


ID_BOX = (300, 400, 900, 440)
NAME_BOX = (300, 460, 420, 500)
DATE_BOX = (300, 520, 600, 560)


def review_doc(doc_id: str) -> Document:
    return Document(
        doc_id=doc_id,
        batch_id=BATCH,
        file_id=doc_id.ljust(64, "0"),
        rel_path=f"box2/{doc_id}.pdf",
        first_page=1,
        last_page=1,
        classification=Classification(label=REVIEW_FORM, confidence=0.97, model_version="test"),
        form_title="个人注册登记表",
        fields=[
            ExtractedField(key="id_number", label="公民身份号码", value=ID_C_MISREAD, normalized=None,
                           confidence=0.41, page_no=1, box=ID_BOX, status=FieldStatus.REVIEW,
                           reasons=["failed_check"], features={"ocr_conf": 0.93}),
            ExtractedField(key="name", label="姓名", value="王五", normalized="王五", confidence=0.55, page_no=1,
                           box=NAME_BOX, status=FieldStatus.REVIEW, reasons=["low_confidence"]),
            ExtractedField(key="form_date", label="填表日期", value=None, page_no=1, box=DATE_BOX,
                           status=FieldStatus.MISSING),
            ExtractedField(key="sex", label="性别", value="男", normalized="男", confidence=0.99, page_no=1,
                           box=(1000, 400, 1060, 440), status=FieldStatus.ACCEPTED),
        ],
        status=DocumentStatus.REVIEW,
        review_reasons=["id_number: failed_check", "name: low_confidence", "form_date: missing"],
    )  # fmt: skip


def add_review_tasks(
    store: CatalogueStore, home: Path, count: int, with_record: bool = False, prefix: str = "dq"
) -> list[str]:
    """`count` documents in review with their page image and QC task; returns the task ids, oldest first."""
    from pipeline.archive.pdfa import write_pdfa
    from pipeline.archive.stage import record_metadata
    from schemas.models import OcrPage, PageKind, PageRef, PageResult, PreprocessInfo, QcTask

    task_ids = []
    for i in range(count):
        doc = review_doc(f"{prefix}{i:03d}")
        image = home / "work" / f"{doc.doc_id}.png"
        _page_image(image)
        ocr = OcrPage(engine="null", engine_version="0", width=PAGE_SIZE[0], height=PAGE_SIZE[1])
        store.save_page(
            BATCH,
            PageResult(
                page=PageRef(file_id=doc.file_id, rel_path=doc.rel_path, page_no=1, image_path=str(image),
                             source_dpi=300, width=PAGE_SIZE[0], height=PAGE_SIZE[1]),
                preprocess=PreprocessInfo(), ocr=ocr, kind=PageKind.FORM,
            ),
        )  # fmt: skip
        store.replace_documents(BATCH, doc.file_id, [doc])
        if with_record:
            record = _record(f"r{prefix}{i:03d}", doc.doc_id, 100 + i, ID_C_MISREAD, None)
            update = {
                "archive_no": f"2024-参保登记-001-{i + 1:04d}",
                "file_name": f"2024-参保登记-无ID-个人注册登记表-{i}.pdf",
                "person_id": None,
                "form_date": None,
                "title": "个人注册登记表",
            }
            record = record.model_copy(update=update)
            pdf = home / "archive" / "2024" / str(record.file_name)
            write_pdfa([(image, ocr)], pdf, record_metadata(record, doc))
            store.save_record(record.model_copy(update={"pdfa_path": str(pdf)}))
        task_id = f"t-{doc.doc_id}"
        store.upsert_qc_task(
            QcTask(task_id=task_id, doc_id=doc.doc_id, reasons=doc.review_reasons,
                   fields=["id_number", "name", "form_date"], created_at=T0.replace(minute=i % 60, second=i // 60))
        )  # fmt: skip
        task_ids.append(task_id)
    return task_ids


# -- group verification -------------------------------------------------------------------------
# Documents whose ID number alone is uncertain (below threshold, but valid), one of them misread;
# and one whose name is uncertain too, so it goes back to the queue after its ID number is verified.

GROUP_IDS = [valid_id(f"4403041985071{i:04d}") for i in range(1, 9)]


def add_group_tasks(store: CatalogueStore, home: Path, count: int, odd: int | None = None, two_flags: int | None = None
                    ) -> list[str]:  # fmt: skip
    """`count` documents flagging only id_number (document `odd` with a misread one, `two_flags` also its
    name); returns the task ids, oldest first."""
    task_ids = add_review_tasks(store, home, count, prefix="dg")
    for i, task_id in enumerate(task_ids):
        doc = store.get_document(f"dg{i:03d}")
        assert doc is not None
        good = GROUP_IDS[i % len(GROUP_IDS)]
        value = good[:5] + str((int(good[5]) + 1) % 10) + good[6:] if i == odd else good
        fields = [
            doc.fields[0].model_copy(update={"value": value, "normalized": value if i != odd else None,
                                             "reasons": ["low_confidence"] if i != odd else ["failed_check"]}),
            doc.fields[1].model_copy(update={"status": FieldStatus.REVIEW if i == two_flags else FieldStatus.ACCEPTED,
                                             "confidence": 0.55 if i == two_flags else 0.99}),
            doc.fields[2].model_copy(update={"value": "2023-07-05", "normalized": "2023-07-05", "confidence": 0.99,
                                             "status": FieldStatus.ACCEPTED}),
            doc.fields[3],
        ]  # fmt: skip
        store.replace_documents(BATCH, doc.file_id, [doc.model_copy(update={"fields": fields})])
        flagged = ["id_number", "name"] if i == two_flags else ["id_number"]
        task = next(t for t in store.qc_tasks() if t.task_id == task_id)
        store.upsert_qc_task(task.model_copy(update={"fields": flagged, "reasons": [f"{k}: review" for k in flagged]}))
    return task_ids


# -- a wrongly joined document -------------------------------------------------------------------
# One source file of three pages that separation took for one document: 个人注册登记表 of person C,
# the copy of C's ID card, and a second 个人注册登记表 of another person (D).

ID_D = valid_id("51010719900101234")
JOINED_FILE = "f" * 64
JOINED_DOC = "djoined"


def _form_words(person: str, id_number: str) -> list[Word]:
    def w(text: str, x: int, y: int, width: int) -> Word:
        return Word(text=text, box=(x, y, x + width, y + 60), confidence=0.98)

    return [
        w("个人注册登记表", 900, 150, 700),
        w("姓名", 280, 400, 160), w(person, 540, 400, 200),
        w("公民身份号码", 280, 540, 380), w(id_number, 700, 540, 900),
        w("填表日期", 280, 680, 260), w("2023年7月5日", 600, 680, 400),
    ]  # fmt: skip


def add_joined_file(store: CatalogueStore, home: Path, with_record: bool = False) -> str:
    """The three-page file as one document in review with its QC task; returns the task id."""
    from pipeline.archive.pdfa import write_pdfa
    from pipeline.archive.stage import record_metadata
    from schemas.models import OcrPage, PageKind, PageRef, PageResult, PreprocessInfo, QcTask

    card = [Word(text="居民身份证", box=(400, 300, 900, 360), confidence=0.95)]
    texts = [_form_words("王五", ID_C), card, _form_words("赵六", ID_D)]
    pages = []
    for n, words in enumerate(texts, start=1):
        image = home / "work" / f"joined-{n}.png"
        _page_image(image)
        ocr = OcrPage(engine="test", engine_version="0", width=PAGE_SIZE[0], height=PAGE_SIZE[1], words=words)
        page = PageResult(
            page=PageRef(file_id=JOINED_FILE, rel_path="box3/joined.pdf", page_no=n, image_path=str(image),
                         source_dpi=300, width=PAGE_SIZE[0], height=PAGE_SIZE[1]),
            preprocess=PreprocessInfo(), ocr=ocr, kind=PageKind.ATTACHMENT if n == 2 else PageKind.FORM,
        )  # fmt: skip
        store.save_page(BATCH, page)
        pages.append((image, ocr))
    doc = review_doc(JOINED_DOC).model_copy(
        update={"file_id": JOINED_FILE, "rel_path": "box3/joined.pdf", "last_page": 3,
                "page_kinds": [PageKind.FORM, PageKind.ATTACHMENT, PageKind.FORM]}
    )  # fmt: skip
    store.replace_documents(BATCH, JOINED_FILE, [doc])
    if with_record:
        record = _record("rjoined", JOINED_DOC, 200, ID_C, None).model_copy(
            update={"archive_no": "2023-参保登记-001-0200", "file_name": f"2023-参保登记-{ID_C}-个人注册登记表.pdf",
                    "title": "个人注册登记表", "form_date": date(2023, 7, 5)}
        )  # fmt: skip
        pdf = home / "archive" / "2023" / str(record.file_name)
        write_pdfa(pages, pdf, record_metadata(record, doc))
        store.save_record(record.model_copy(update={"pdfa_path": str(pdf)}))
    task_id = "t-joined"
    store.upsert_qc_task(
        QcTask(task_id=task_id, doc_id=JOINED_DOC, reasons=doc.review_reasons, fields=["id_number", "name"],
               created_at=T0.replace(year=2023))
    )  # fmt: skip
    return task_id
