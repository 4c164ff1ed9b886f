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
)

T0 = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
PASSWORD = "correct horse battery"


def valid_id(prefix17: str) -> str:
    return prefix17 + ric.calc_check_digit(prefix17)


ID_A = valid_id("11010519491231002")
ID_B = valid_id("32010219800506123")
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
        form_date=date(2019, 6, n),
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
