"""SqliteFtsIndex on a real SQLite file: Chinese text, short names, IDs, filters, hostile input."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from pipeline.errors import MissingDependencyError
from pipeline.search import open_search, rebuild_index
from pipeline.search import sqlite_fts as sqlite_fts_module
from pipeline.search.base import HIT_END, HIT_START, SearchDoc, parse_query
from pipeline.search.sqlite_fts import SqliteFtsIndex, make_snippet
from pipeline.settings import Settings
from schemas.models import ArchiveRecord, DocumentStatus

ZHANG_ID = "11010519491231002X"
LI_ID = "440524188001010014"


def _doc(
    rid: str,
    *,
    name: str,
    title: str,
    form_id: str | None,
    day: date | None,
    person_id: str | None,
    unit: str,
    archive_no: str | None = None,
    extra: str = "",
    insurance: str = "养老保险",
) -> SearchDoc:
    record = ArchiveRecord(
        record_id=rid,
        doc_id="d-" + rid,
        archive_no=archive_no or f"{day.year if day else 2000}-YL-0001-{rid[1:].zfill(4)}",
        person_id=person_id,
        title=title,
        form_date=day,
        insurance_type=insurance,
        handler="赵经办",
    )
    text = f"{title}\n姓名 {name} 性别 女\n单位名称 {unit}\n公民身份号码 {person_id or ''}\n{extra}"
    return SearchDoc.from_record(
        record,
        form_id=form_id,
        status=DocumentStatus.ACCEPTED,
        text=text,
        fields={"name": name, "unit_name": unit, "id_number": person_id, "empty": "  "},
    )


DOCS = [
    _doc("r1", name="张三", title="城镇职工基本养老保险参保登记表", form_id="yl_cbdj", day=date(2019, 3, 4),
         person_id=ZHANG_ID, unit="北京市朝阳区宏达建材有限公司"),
    _doc("r2", name="李四", title="失业保险金申领登记表", form_id="sy_sqdj", day=date(2020, 7, 15),
         person_id=LI_ID, unit="汕头市龙湖区华侨公司", insurance="失业保险"),
    _doc("r3", name="欧阳娜娜", title="工伤认定申请表", form_id="gs_rdsq", day=date(2018, 11, 2),
         person_id=ZHANG_ID, unit="北京市海淀区某研究所", extra="经办人 张三丰",
         insurance="工伤保险"),
    _doc("r4", name="王五", title="城镇职工基本养老保险参保登记表", form_id="yl_cbdj", day=None,
         person_id=None, unit="广州市天河区五金店", archive_no="2021-YL-0002-0001"),
]  # fmt: skip


@pytest.fixture
def index(tmp_path: Path) -> SqliteFtsIndex:
    ix = SqliteFtsIndex(tmp_path / "index.sqlite")
    assert ix.index(DOCS) == len(DOCS)
    return ix


def _ids(hits: list) -> list[str]:
    return [h.record_id for h in hits]


def test_search_doc_from_record() -> None:
    doc = DOCS[0]
    assert doc.person_id == ZHANG_ID and doc.id_numbers == [ZHANG_ID]
    assert doc.fields == {"name": "张三", "unit_name": "北京市朝阳区宏达建材有限公司", "id_number": ZHANG_ID}
    assert doc.year == 2019
    assert DOCS[3].year == 2021, "no form date: the archive number's 年度"
    lower = SearchDoc.from_record(
        ArchiveRecord(record_id="x", doc_id="x", archive_no="2019-1", person_id="11010519491231002x", title="t"),
        form_id=None, status=DocumentStatus.REVIEW, text="", fields={"agent_id": LI_ID},
    )  # fmt: skip
    assert lower.id_numbers == [ZHANG_ID, LI_ID]


def test_two_character_name_is_found(index: SqliteFtsIndex) -> None:
    hits = index.search("张三")
    # 张三 also occurs inside 张三丰 (r3's OCR text); the record about 张三 ranks first.
    assert _ids(hits) == ["r1", "r3"]
    assert f"{HIT_START}张三{HIT_END}" in hits[0].snippet
    assert hits[0].person_id == ZHANG_ID, "hits carry the full ID"
    assert _ids(index.search("李四")) == ["r2"]
    assert _ids(index.search("娜")) == ["r3"], "a single character works too"


def test_long_chinese_terms_use_fts_and_rank(index: SqliteFtsIndex) -> None:
    hits = index.search("养老保险")
    assert set(_ids(hits)) == {"r1", "r4"}
    assert all(h.score > 0 for h in hits)
    assert f"{HIT_START}养老保险{HIT_END}" in hits[0].snippet
    assert _ids(index.search("欧阳娜娜")) == ["r3"]
    assert _ids(index.search("宏达建材")) == ["r1"], "unit names are searchable"
    assert _ids(index.search("海淀区 张三")) == ["r3"], "terms are ANDed, short and long mixed"
    assert index.search("上海市") == []


def test_id_number_exact(index: SqliteFtsIndex) -> None:
    assert _ids(index.search(id_number=ZHANG_ID)) == ["r1", "r3"]
    assert _ids(index.search(id_number=ZHANG_ID.lower())) == ["r1", "r3"]
    assert _ids(index.search(id_number=LI_ID)) == ["r2"]
    assert index.search(id_number="110105194912310021") == []
    # Typed into the free-text box it is recognised and searched exactly, with other terms.
    assert _ids(index.search(LI_ID.lower())) == ["r2"]
    assert _ids(index.search(f"工伤 {ZHANG_ID}")) == ["r3"]
    assert parse_query(f" 张三  {ZHANG_ID.lower()} 张三").id_numbers == (ZHANG_ID,)


def test_form_and_year_filters(index: SqliteFtsIndex) -> None:
    assert _ids(index.search(form="yl_cbdj")) == ["r1", "r4"], "dated records first, newest first"
    assert _ids(index.search(form="失业保险金")) == ["r2"], "a title substring matches too"
    assert _ids(index.search(form="yl_cbdj", year=2019)) == ["r1"]
    assert _ids(index.search(year=2021)) == ["r4"]
    assert _ids(index.search(year=2018)) == ["r3"]
    assert _ids(index.search("张三", year=2019)) == ["r1"]
    assert _ids(index.search("登记表", form="sy_sqdj", year=2020)) == ["r2"]
    assert index.search("登记表", form="gs_rdsq") == []
    assert len(index.search(limit=2)) == 2
    assert index.search(limit=0) == []


def test_upsert_is_idempotent(index: SqliteFtsIndex) -> None:
    assert index.index(DOCS) == len(DOCS)
    assert index.count() == len(DOCS)
    assert _ids(index.search("张三")) == ["r1", "r3"]
    changed = _doc("r2", name="李四海", title="失业保险金申领登记表", form_id="sy_sqdj", day=date(2022, 1, 5),
                   person_id=LI_ID, unit="汕头市金平区新公司")  # fmt: skip
    index.index([changed])
    assert index.count() == len(DOCS)
    assert index.search("龙湖区") == [], "old text is gone"
    assert _ids(index.search("金平区")) == ["r2"]
    assert _ids(index.search(year=2022)) == ["r2"] and index.search(year=2020) == []
    assert _ids(index.search(id_number=LI_ID)) == ["r2"]


def test_delete_and_clear(index: SqliteFtsIndex) -> None:
    assert index.delete(["r1", "missing"]) == 1
    assert _ids(index.search("张三")) == ["r3"]
    assert _ids(index.search(id_number=ZHANG_ID)) == ["r3"]
    index.clear()
    assert index.count() == 0 and index.search() == []


@pytest.mark.parametrize(
    "query",
    ['"AND OR *', "NEAR(张三 李四)", "title:张三", "张三*", "^养老", "%", "100%_\\", "'); DROP TABLE x;--",
     '"', "(", "AND", "养老 OR 失业", "*", "{title}: 张", "张三 NOT 李四"],
)  # fmt: skip
def test_hostile_input_is_plain_text(index: SqliteFtsIndex, query: str) -> None:
    hits = index.search(query)
    # Nothing here appears literally in the records, so nothing matches and nothing breaks.
    assert hits == [], query
    assert index.count() == len(DOCS)


def test_control_characters_are_separators(index: SqliteFtsIndex) -> None:
    assert _ids(index.search("\x00张三\n")) == _ids(index.search("张三"))


def test_operators_and_wildcards_are_literal(tmp_path: Path) -> None:
    ix = SqliteFtsIndex(tmp_path / "i.sqlite")
    odd = _doc("r9", name="A_B", title="备注 100% 完成 \"AND\" 测试", form_id=None, day=None, person_id=None,
               unit="X*Y 公司")  # fmt: skip
    ix.index([*DOCS, odd])
    assert _ids(ix.search("100%")) == ["r9"]
    assert _ids(ix.search("A_B")) == ["r9"]
    assert _ids(ix.search('"AND"')) == ["r9"]
    assert _ids(ix.search("X*Y")) == ["r9"]
    assert ix.search("A%B") == []


def test_snippet_marks_terms_in_a_window() -> None:
    text = "前言" * 40 + "申请人张三的养老保险参保登记" + "后记" * 40
    snippet = make_snippet([text], ["张三", "养老"], width=30)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert f"{HIT_START}张三{HIT_END}" in snippet and f"{HIT_START}养老{HIT_END}" in snippet
    assert make_snippet(["", "标题"], ["无关"]) == "标题"


def test_open_and_rebuild(tmp_path: Path) -> None:
    backend = open_search(Settings(home=tmp_path / "home"))
    assert isinstance(backend, SqliteFtsIndex) and backend.path == tmp_path / "home" / "index.sqlite"
    backend.index(DOCS)
    assert rebuild_index(backend, DOCS[:2]) == 2
    assert backend.count() == 2 and backend.search("欧阳娜娜") == []


def test_old_sqlite_is_a_missing_dependency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_fts_module.sqlite3, "sqlite_version_info", (3, 31, 1))
    with pytest.raises(MissingDependencyError, match=r"3\.34"):
        SqliteFtsIndex(tmp_path / "i.sqlite")


def test_the_file_is_plain_sqlite_with_fts5_trigram(index: SqliteFtsIndex) -> None:
    with sqlite3.connect(index.path) as conn:
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'search_fts'").fetchone()
    assert "trigram" in sql
