"""Person-table rows of 参保单位人员增加减少表: every row read from word boxes, IDs checked per row."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from bench.accuracy import evaluate
from pipeline.extract.checks import CROSS_CHECKS
from pipeline.extract.fields import extract_fields
from pipeline.extract.parse import parse_value
from pipeline.extract.table_rows import extract_table_rows, mirror_first_row
from schemas.models import CheckName, CheckOutcome, Document, ExtractedField, FieldStatus, OcrPage, Word
from schemas.registry import get_registry
from synth import GroundTruth
from synth.truth import DocumentTruth, PageTruth
from synth.values import id_number

FORM = get_registry().form("unit_staff_change")
RNG = random.Random(7)
IDS = [
    id_number(RNG, date(1980, 3, 4), "男"),
    id_number(RNG, date(1991, 11, 30), "女"),
    id_number(RNG, date(1975, 1, 9), "男"),
]
# x centres of the printed columns: 序号 姓名 性别 身份证号 增减类型 变动时间 缴费基数
X = {"seq": 260, "name": 480, "sex": 690, "id": 1100, "type": 1560, "date": 1850, "base": 2150}


def _w(text: str, x: float, y: float, conf: float = 0.95) -> Word:
    half = max(20, 22 * len(text))
    return Word(text=text, box=(round(x - half), round(y - 25), round(x + half), round(y + 25)), confidence=conf)


def _page(rows: list[list[Word]], *, header_y: int = 1000) -> OcrPage:
    header = [
        _w("序号", X["seq"], header_y),
        _w("姓名", X["name"], header_y),
        _w("性别", X["sex"], header_y),
        _w("身份证号码", X["id"], header_y),
        _w("变动类型", X["type"], header_y),
        _w("变动时间", X["date"], header_y),
        _w("缴费基数", X["base"], header_y),
    ]
    above = [_w("参保单位人员增加减少表", 1240, 200), _w("单位名称", 400, 500), _w("某某科技有限公司", 1200, 500)]
    below = [
        _w("备注", 300, header_y + 130 * (len(rows) + 2)),
        _w("经办人（签字）：", 400, header_y + 130 * (len(rows) + 4)),
    ]
    words = [*above, *header, *(w for row in rows for w in row), *below]
    return OcrPage(engine="test", engine_version="1", width=2480, height=3508, words=words)


def _row(n: int, y: int, name: str, sex: str, ident: str, kind: str, when: str, base: str) -> list[Word]:
    return [
        _w(str(n), X["seq"], y),
        _w(name, X["name"] - 30, y),  # handwriting sits off-centre
        _w(sex, X["sex"], y),
        _w(ident, X["id"] - 60, y),
        _w(kind, X["type"], y),
        _w(when, X["date"] + 20, y),
        _w(base, X["base"], y),
    ]


def _values(row: list[ExtractedField]) -> dict[str, str | None]:
    return {f.key: f.normalized for f in row}


def test_the_table_columns_come_from_the_registry() -> None:
    keys = ["name", "sex", "id_number", "change_type", "change_date", "contribution_base", "change_reason"]
    assert [s.key for s in FORM.table_columns()] == keys
    assert get_registry().form("personal_registration").table_columns() == []


def test_every_row_is_read_with_its_own_checked_id() -> None:
    page = _page(
        [
            _row(1, 1130, "张伟", "男", IDS[0], "增加", "2015年3月2日", "4,500.00"),
            _row(2, 1260, "阿依古丽·买买提", "女", IDS[1], "减少", "2015.03.20", "3800元"),
            _row(3, 1390, "李强", "男", IDS[2], "增加", "2015-02-27", "¥12,000.50"),
        ]
    )
    rows = extract_table_rows(FORM, [(1, page)])
    assert [_values(r) for r in rows] == [
        {
            "name": "张伟",
            "sex": "男",
            "id_number": IDS[0],
            "change_type": "增加",
            "change_date": "2015-03-02",
            "contribution_base": "4500.00",
        },
        {
            "name": "阿依古丽·买买提",
            "sex": "女",
            "id_number": IDS[1],
            "change_type": "减少",
            "change_date": "2015-03-20",
            "contribution_base": "3800.00",
        },
        {
            "name": "李强",
            "sex": "男",
            "id_number": IDS[2],
            "change_type": "增加",
            "change_date": "2015-02-27",
            "contribution_base": "12000.50",
        },
    ]
    assert all(f.page_no == 1 and f.box is not None for r in rows for f in r)


def test_a_failing_id_is_kept_for_review_and_a_wrong_sex_is_flagged() -> None:
    broken = IDS[0][:-1] + ("0" if IDS[0][-1] != "0" else "1")
    page = _page(
        [
            _row(1, 1130, "张伟", "男", broken, "增加", "2015年3月2日", "4500"),
            _row(2, 1260, "王芳", "男", IDS[1], "减少", "2015.03.20", "3800"),  # the ID says female
        ]
    )
    first, second = extract_table_rows(FORM, [(1, page)])
    ident = {f.key: f for f in first}["id_number"]
    assert ident.normalized is None and ident.value == broken
    assert (ident.checks[0].check, ident.checks[0].outcome) == (CheckName.VALUE, CheckOutcome.FAILED)
    assert "GB 11643" in (ident.checks[0].reason or "")
    by_key = {f.key: f for f in second}
    assert by_key["id_number"].normalized == IDS[1]
    failed = [c for c in by_key["sex"].checks if c.outcome is CheckOutcome.FAILED]
    assert [(c.check, c.reason) for c in failed] == [(CheckName.ID_SEX, "sex disagrees with the ID number")]
    assert by_key["sex"].confidence == 0.95  # as read: the verdict is weighed by the calibration, once


def test_cells_merged_by_ocr_are_split_and_stray_lines_are_not_rows() -> None:
    merged = [
        _w("1", X["seq"], 1130),
        _w("张伟", X["name"], 1130),
        Word(text=f"男 {IDS[0]}", box=(660, 1105, 1500, 1155), confidence=0.9),
        _w("增加", X["type"], 1130),
    ]
    stray = [_w("3", X["seq"], 1260)]  # an empty printed row with only its number
    rows = extract_table_rows(FORM, [(1, _page([merged, stray]))])
    assert len(rows) == 1
    assert _values(rows[0]) == {"name": "张伟", "sex": "男", "id_number": IDS[0], "change_type": "增加"}


# (column, raw text): cases where the table's own parser and the form's used to disagree
SAME_TEXT = [
    ("contribution_base", "1.00"),  # below the registry's lowest base: the table refused it, the form took it
    ("contribution_base", "44.500.00"),  # a comma read as a point: the table refused it, the form read 44500.00
    ("contribution_base", "4,500.00"),
    ("change_type", "增 加"),  # choices were normalised on the form only
    ("sex", "女"),
    ("change_date", "2015年3月2日"),
]
_CELL_X = {"contribution_base": X["base"], "change_type": X["type"], "sex": X["sex"], "change_date": X["date"]}


@pytest.mark.parametrize(("key", "raw"), SAME_TEXT)
def test_a_table_cell_and_a_form_field_parse_the_same_text_the_same(key: str, raw: str) -> None:
    row = [_w("1", X["seq"], 1130), _w("张伟", X["name"], 1130), _w(IDS[0], X["id"], 1130), _w(raw, _CELL_X[key], 1130)]
    cell = next(f for f in extract_table_rows(FORM, [(1, _page([row]))])[0] if f.key == key)
    spec = next(s for s in FORM.fields if s.key == key)
    form_page = OcrPage(
        engine="t", engine_version="1", width=2480, height=3508, words=[_w(spec.label, 300, 500), _w(raw, 900, 500)]
    )
    field = next(f for f in extract_fields(FORM, [(1, form_page)]) if f.key == key)
    assert cell.normalized == field.normalized
    own = [c for c in cell.checks if c.check not in CROSS_CHECKS]  # the row also cross-checks the cell
    assert own == field.checks


def test_the_shared_parse_follows_the_registry() -> None:
    got = {raw: parse_value(next(s for s in FORM.fields if s.key == k), raw).normalized for k, raw in SAME_TEXT}
    assert got == {
        "1.00": None,
        "44.500.00": "44500.00",
        "4,500.00": "4500.00",
        "增 加": "增加",
        "女": "女",
        "2015年3月2日": "2015-03-02",
    }


def test_a_page_without_the_table_header_gives_no_rows() -> None:
    page = OcrPage(
        engine="t", engine_version="1", width=2480, height=3508, words=[_w("姓名", 300, 500), _w("张伟", 600, 500)]
    )
    assert extract_table_rows(FORM, [(1, page)]) == []


def test_the_document_is_filed_under_the_first_row() -> None:
    header = ExtractedField(key="unit_name", label="单位名称", value="某公司", normalized="某公司")
    wrong = ExtractedField(key="id_number", label="公民身份号码", value="x", status=FieldStatus.MISSING)
    row = [
        ExtractedField(key="id_number", label="公民身份号码", value=IDS[0], normalized=IDS[0]),
        ExtractedField(key="name", label="姓名", value="张伟", normalized="张伟"),
    ]
    merged = mirror_first_row([header, wrong], [row])
    assert [(f.key, f.normalized) for f in merged] == [("unit_name", "某公司"), ("id_number", IDS[0]), ("name", "张伟")]
    assert mirror_first_row([header], []) == [header]


def test_the_benchmark_scores_rows_cell_by_cell() -> None:
    page = PageTruth(kind="form", rotation=0, skew_deg=0.0, dpi=300)
    truth = GroundTruth(
        seed=1,
        documents=[
            DocumentTruth(
                doc_index=0,
                source_file="a.pdf",
                first_page=1,
                last_page=1,
                form_id="unit_staff_change",
                form_title="参保单位人员增加减少表",
                title_printed="参保单位人员增加减少表",
                fields={},
                pages=[page],
                rows=[{"name": "张伟", "id_number": IDS[0]}, {"name": "王芳", "id_number": IDS[1]}],
            )
        ],
    )

    def cell(key: str, value: str, status: FieldStatus) -> ExtractedField:
        return ExtractedField(key=key, label=key, value=value, normalized=value, status=status)

    doc = Document(
        doc_id="d",
        batch_id="b",
        file_id="f",
        rel_path="a.pdf",
        first_page=1,
        last_page=1,
        table_rows=[
            [cell("name", "张伟", FieldStatus.ACCEPTED), cell("id_number", IDS[0], FieldStatus.ACCEPTED)],
            [cell("name", "王方", FieldStatus.ACCEPTED), cell("id_number", IDS[1], FieldStatus.REVIEW)],
            [cell("name", "多余", FieldStatus.REVIEW)],
        ],
    )
    result = evaluate(truth, [doc])
    assert result["table_rows"] == 2
    assert result["row_cell_accuracy"] == 0.75
    assert result["row_exact_rate"] == 0.5
    assert result["row_accepted_precision"] == round(2 / 3, 4)
    assert result["rows_extra"] == 1


@pytest.mark.ocr
def test_rows_of_a_generated_form_survive_real_ocr(tmp_path: Path) -> None:
    from pipeline.run import ingest_batch
    from pipeline.settings import Settings
    from pipeline.store import open_store
    from synth import FormSource, generate_batch

    batch = tmp_path / "batch"
    truth = generate_batch(batch, 1, 31, "counter", source=FormSource((FORM,), {}), workers=1)
    settings = Settings(home=tmp_path / "home", workers=1)
    summary = ingest_batch(batch, settings, show_progress=False)
    store = open_store(settings.database_url)
    try:
        result = evaluate(truth, store.documents(summary.batch_id))
    finally:
        store.close()
    assert result["table_rows"] == len(truth.documents[0].rows) >= 2
    assert result["row_cell_accuracy"] >= 0.8


MORE_IDS = [id_number(RNG, date(1960 + i, 1 + i, 3 + i), "男" if i % 2 else "女") for i in range(4)]


def _sheet(words: list[Word], *, shift: int = 0) -> OcrPage:
    """A continuation sheet: the same ruling as the first, laid on the platen `shift` pixels further right."""
    moved = [
        Word(text=w.text, box=(w.box[0] + shift, w.box[1], w.box[2] + shift, w.box[3]), confidence=w.confidence)
        for w in words
    ]
    return OcrPage(engine="test", engine_version="1", width=2480, height=3508, words=moved)


def _first_sheet() -> OcrPage:
    return _page(
        [
            _row(1, 1130, "张伟", "男", IDS[0], "增加", "2015年3月2日", "4500"),
            _row(2, 1260, "王芳", "女", IDS[1], "增加", "2015.03.20", "3800"),
        ]
    )


def _more_rows(top: int) -> list[list[Word]]:
    return [
        _row(3, top, "李强", "男", IDS[2], "增加", "2015-02-27", "12000.50"),
        _row(4, top + 130, "赵敏", "女", MORE_IDS[0], "减少", "2015-03-01", "5000"),
        _row(5, top + 260, "古丽·买买提", "男", MORE_IDS[1], "增加", "2015-03-05", "6100"),
    ]


def test_rows_go_on_over_a_continuation_sheet_without_its_header() -> None:
    marks = [_w("参保单位人员增加减少表（续）", 1240, 200), _w("续表", X["name"], 330)]
    footer = [_w("第2页 共2页", 1240, 3300)]
    second = _sheet([*marks, *(w for r in _more_rows(500) for w in r), *footer], shift=40)
    rows = extract_table_rows(FORM, [(1, _first_sheet()), (2, second)])
    assert [_values(r)["name"] for r in rows] == ["张伟", "王芳", "李强", "赵敏", "古丽·买买提"]
    assert [{f.page_no for f in r} for r in rows] == [{1}, {1}, {2}, {2}, {2}]
    assert _values(rows[3]) == {
        "name": "赵敏",
        "sex": "女",
        "id_number": MORE_IDS[0],
        "change_type": "减少",
        "change_date": "2015-03-01",
        "contribution_base": "5000.00",
    }
    assert _values(rows[4])["id_number"] == MORE_IDS[1] and _values(rows[4])["sex"] == "男"


def test_a_continuation_sheet_with_its_header_is_read_in_its_own_columns() -> None:
    header = [_w(t, X[k], 400) for t, k in (("序号", "seq"), ("姓名", "name"), ("身份证号码", "id"))]
    header += [_w(t, X[k], 400) for t, k in (("变动类型", "type"), ("变动时间", "date"), ("缴费基数", "base"))]
    header += [_w("性别", X["sex"], 400)]
    # no remarks row under the table: the sheet number at the foot must not become a row
    second = _sheet([*header, *(w for r in _more_rows(530) for w in r), _w("第2页共2页", 1100, 3300)], shift=150)
    rows = extract_table_rows(FORM, [(1, _first_sheet()), (2, second)])
    assert [_values(r).get("id_number") for r in rows] == [IDS[0], IDS[1], IDS[2], MORE_IDS[0], MORE_IDS[1]]
    assert [_values(r).get("sex") for r in rows[2:]] == ["男", "女", "男"]


def test_a_page_without_header_or_mark_adds_no_rows() -> None:
    # an ID-card copy behind the form: a name and an ID, no header and no continuation mark
    id_copy = _sheet(
        [_w("姓名", 400, 600), _w("赵敏", X["name"], 600), _w("公民身份号码", 400, 900), _w(MORE_IDS[0], X["id"], 900)]
    )
    rows = extract_table_rows(FORM, [(1, _first_sheet()), (2, id_copy)])
    assert [_values(r)["name"] for r in rows] == ["张伟", "王芳"]
    # a marked sheet continues only a table read on the page before it
    marked = _sheet([_w("续表", X["name"], 330), *(w for r in _more_rows(500) for w in r)])
    no_table = _sheet([_w("参保单位人员增加减少表", 1240, 200), _w("单位名称", 400, 500)])
    assert extract_table_rows(FORM, [(1, no_table), (2, marked)]) == []
    assert len(extract_table_rows(FORM, [(1, _first_sheet()), (2, id_copy), (3, marked)])) == 2


@pytest.mark.ocr
@pytest.mark.parametrize(
    "seed",
    [
        48,  # the title again with （续表）, no header: read in the first sheet's columns
        53,  # no title, no header, only 第2页 共2页 at the foot (第1页 共2页 on the first sheet)
    ],
)
def test_rows_on_a_generated_continuation_sheet_survive_real_ocr(tmp_path: Path, seed: int) -> None:
    from pipeline.run import ingest_batch
    from pipeline.settings import Settings
    from pipeline.store import open_store
    from synth import FormSource, generate_batch

    batch = tmp_path / "batch"
    truth = generate_batch(batch, 1, seed, "counter", source=FormSource((FORM,), {}), workers=1, continuation_share=1.0)
    (doc_truth,) = truth.documents
    assert [p.kind for p in doc_truth.pages][:2] == ["form", "continuation"]
    settings = Settings(home=tmp_path / "home", workers=1)
    summary = ingest_batch(batch, settings, show_progress=False)
    store = open_store(settings.database_url)
    try:
        docs = store.documents(summary.batch_id)
    finally:
        store.close()
    result = evaluate(truth, docs)
    assert result["separation_f1"] == 1.0  # the continuation sheet joined; it opened nothing
    assert result["table_rows"] == len(doc_truth.rows) and result["rows_extra"] == 0
    assert result["row_cell_accuracy"] >= 0.8
    (doc,) = docs
    assert len(doc.table_rows) == len(doc_truth.rows)
    on_second = [i for i, row in enumerate(doc.table_rows) if {f.page_no for f in row} == {2}]
    assert on_second and on_second[-1] == len(doc_truth.rows) - 1
    # rows read from the second sheet line up with the true people after the first sheet's
    right = sum(
        (f.normalized or f.value or "").upper() == doc_truth.rows[i].get(f.key, "").upper()
        for i in on_second
        for f in doc.table_rows[i]
    )
    assert right >= 0.8 * sum(len(doc.table_rows[i]) for i in on_second)
