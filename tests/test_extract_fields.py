"""Field extraction from word boxes: where a value sits relative to its label, and how it is cleaned."""

from __future__ import annotations

from pipeline.extract.checks import cross_check
from pipeline.extract.fields import cut_at_label, extract_fields
from pipeline.extract.parse import clean_text
from schemas.models import CheckName, CheckOutcome, ExtractedField, OcrPage, Word
from schemas.registry import get_registry

ROW = 70  # a table row at 300 DPI


def _w(text: str, x: int, row: int, width: int = 200, conf: float = 0.99) -> Word:
    y = 200 + row * ROW * 2
    return Word(text=text, box=(x, y, x + width, y + ROW - 10), confidence=conf)


def _page(*words: Word) -> OcrPage:
    return OcrPage(engine="test", engine_version="0", width=2480, height=3508, words=list(words))


def _fields(form_id: str, page: OcrPage) -> dict[str, ExtractedField]:
    return {f.key: f for f in extract_fields(get_registry().form(form_id), [(1, page)])}


def _why(field: ExtractedField) -> str:
    """What the failed checks say about the field."""
    return " ".join(c.reason or "" for c in field.checks if c.outcome is CheckOutcome.FAILED)


def _outcome(field: ExtractedField, check: CheckName) -> CheckOutcome | None:
    return next((c.outcome for c in field.checks if c.check is check), None)


def test_value_right_of_the_label_beats_the_value_of_the_row_below() -> None:
    page = _page(
        _w("民族", 1380, 0),
        _w("藏族", 1640, 0),
        _w("社会保障号", 280, 1),
        # under 民族, but the value of 社会保障号's row
        _w("832754613634", 1254, 0, 340, conf=1.0).model_copy(update={"box": (1254, 330, 1594, 390)}),
    )
    got = _fields("personal_registration", page)
    assert got["ethnicity"].normalized == "藏族"


def test_a_word_below_that_belongs_to_another_label_is_not_taken() -> None:
    page = _page(
        _w("性别", 1380, 0),
        _w("用人单位", 370, 1),
        _w("哈尔滨市道里区市政工程管理处", 700, 1, 860).model_copy(update={"box": (1300, 330, 1860, 390)}),
    )
    got = _fields("personal_registration", page)
    assert "sex" not in got


def test_free_text_value_worded_like_a_label() -> None:
    # 变更项目: 联系电话 — the changed item is named by its label; the next thing on the row is a label.
    page = _page(
        _w("单位社保编码", 290, 0, 280),
        _w("961893195", 666, 0, 300),
        _w("变更项目", 1347, 0),
        _w("联系电话", 1686, 0, 250),
        _w("变更前", 290, 1),
        _w("15140418998", 666, 1, 300),
    )
    got = _fields("unit_change_registration", page)
    assert got["change_item"].value == "联系电话"
    # the 联系电话 under 变更项目 is a value: its "phone" below is the next row's 变更前 value
    assert got.get("phone") is None or got["phone"].normalized != "15140418998"


def test_next_label_run_into_the_value_is_cut() -> None:
    page = _page(_w("性别", 720, 0), _w("女 民族 汉", 910, 0, 285))
    assert _fields("personal_registration", page)["sex"].normalized == "女"
    assert cut_at_label("女 民族 汉", ["民族", "性别"]) == "女 "


def test_document_numbers_and_lists_get_their_printed_punctuation_back() -> None:
    assert clean_text("人社工认字〔2023]第043号") == "人社工认字〔2023〕第043号"
    assert clean_text("人社工认字[2008】第129号") == "人社工认字〔2008〕第129号"
    assert clean_text("养老丶医疗丶工伤") == "养老、医疗、工伤"
    assert clean_text("克孜勒苏兴业食品有限公司·") == "克孜勒苏兴业食品有限公司"


def test_retirement_date_may_lie_decades_ahead_but_birth_date_may_not() -> None:
    page = _page(
        _w("出生日期", 270, 0),
        _w("2037年1月24日", 630, 0, 400),
        _w("退休时间", 1330, 1),
        _w("二〇三七年一月二十四日", 1640, 1, 600),
    )
    got = _fields("pension_benefit_review", page)
    assert got["retire_date"].normalized == "2037-01-24"
    assert got["birth_date"].normalized is None


def test_id_fragments_on_the_row_are_joined_and_cross_checked() -> None:
    page = _page(
        _w("公民身份号码", 270, 0, 280),
        _w("110105194", 620, 0, 260),
        _w("91231002X", 900, 0, 260),
        _w("性别", 1380, 1),
        _w("男", 1640, 1, 60),
    )
    read = _fields("personal_registration", page)
    assert read["id_number"].normalized == "11010519491231002X"
    got = {f.key: f for f in cross_check(list(read.values()))}
    # the ID says 女: both readings get a failed verdict that says why, and keep the confidence they were read with
    for key in ("sex", "id_number"):
        assert _outcome(got[key], CheckName.ID_SEX) is CheckOutcome.FAILED
        assert "sex disagrees with the ID number" in _why(got[key])
        assert got[key].confidence == read[key].confidence
    assert _outcome(got["id_number"], CheckName.ID_BIRTH_DATE) is CheckOutcome.NOT_APPLICABLE


def test_a_value_that_fails_its_check_keeps_its_ocr_confidence_and_says_so() -> None:
    page = _page(_w("公民身份号码", 270, 0, 280), _w("110105194912310021", 620, 0, 520, conf=1.0))
    got = _fields("personal_registration", page)
    assert got["id_number"].normalized is None
    assert _outcome(got["id_number"], CheckName.VALUE) is CheckOutcome.FAILED
    # the OCR was sure; the verdict is what keeps it from being accepted (test_decide: never accepted)
    assert got["id_number"].confidence > 0.9
    assert "GB 11643" in _why(got["id_number"])


def test_signature_line_words_are_not_names() -> None:
    page = _page(
        _w("经办人（签字）：", 260, 3, 336),
        _w("单位", 1268, 3, 105),
        _w("经办人", 1358, 0, 150),
        _w("韩博", 1872, 0, 140),
    )
    got = _fields("unit_change_registration", page)
    assert got["contact_person"].normalized == "韩博"


def test_free_text_on_the_form_page_outranks_the_id_card_copy() -> None:
    form = _page(_w("民族", 1395, 0, 104), _w("汉族", 1683, 0, 126, conf=0.98))
    id_copy = _page(_w("民族汉", 847, 0, 146, conf=1.0))
    got = {f.key: f for f in extract_fields(get_registry().form("personal_registration"), [(1, form), (3, id_copy)])}
    assert got["ethnicity"].value == "汉族"


def test_checked_value_behind_a_stray_mark_on_the_row() -> None:
    page = _page(_w("性别", 1391, 0, 121), _w("市", 1523, 0, 59), _w("女", 1685, 0, 72))
    assert _fields("personal_registration", page)["sex"].normalized == "女"


def test_a_seal_between_label_and_value_is_stepped_over() -> None:
    page = _page(
        _w("统一社会信用代码", 206, 0, 316),
        _w("财务专用章", 933, 0, 218, conf=0.89),
        _w("91110000600037341L", 1182, 0, 533),
    )
    got = _fields("unit_social_insurance_registration", page)
    assert got["unit_code"].normalized == "91110000600037341L"


def test_unit_name_cut_short_by_a_seal_is_not_a_value() -> None:
    # 教育局 lies under the seal: what is left reads as a place, not a unit, and must go to review
    page = _page(_w("单位名称", 290, 0), _w("北京市朝阳区", 666, 0, 400), _w("统一社会信用代码", 290, 1, 300))
    got = _fields("unit_change_registration", page)
    assert got["unit_name"].value == "北京市朝阳区"
    assert got["unit_name"].normalized is None
    assert "organisational form" in _why(got["unit_name"])
    whole = _page(_w("单位名称", 290, 0), _w("北京市朝阳区教育局", 666, 0, 500))
    assert _fields("unit_change_registration", whole)["unit_name"].normalized == "北京市朝阳区教育局"


def test_change_item_is_one_of_the_forms_choices() -> None:
    page = _page(_w("变更项目", 290, 0), _w("单位地址", 666, 0), _w("变更前", 290, 1), _w("山东省济南市", 666, 1))
    assert _fields("unit_change_registration", page)["change_item"].normalized == "单位地址"
    odd = _page(_w("变更项目", 290, 0), _w("随便写的", 666, 0), _w("变更前", 290, 1))
    got = _fields("unit_change_registration", odd)["change_item"]
    assert got.normalized is None and "choices" in _why(got)


def test_a_unit_name_read_in_two_pieces_is_joined_not_cut_to_its_tail() -> None:
    # …阿克陶县自 | 来水公司: the tail alone ends in 公司 and would pass as a (wrong) unit name
    page = _page(
        _w("单位名称", 290, 0),
        _w("克孜勒苏柯尔克孜自治州阿克陶县自", 666, 0, 700),
        _w("来水公司", 1380, 0, 200),
    )
    got = _fields("unit_change_registration", page)["unit_name"]
    assert got.normalized == "克孜勒苏柯尔克孜自治州阿克陶县自来水公司"


def test_a_minority_name_split_at_its_dot_is_read_whole() -> None:
    page = _page(_w("姓名", 290, 0), _w("依明", 500, 0, 110), _w("江·买买提", 615, 0, 260), _w("性别", 1380, 0))
    got = _fields("personal_registration", page)["name"]
    assert got.normalized == "依明江·买买提"
    han = _page(_w("姓名", 290, 0), _w("王小明", 500, 0, 160), _w("性别", 1380, 0), _w("男", 1640, 0, 60))
    assert _fields("personal_registration", han)["name"].normalized == "王小明"


def test_an_amount_that_lost_its_decimal_point_is_not_trusted() -> None:
    # 47877.22 with the point missed reads 4787722: no monthly wage is that high (amount_ranges in forms.yaml)
    form = next(f for f in get_registry().forms if any(s.key == "monthly_wage" for s in f.fields))
    page = _page(_w("本人工资", 290, 0), _w("4787722", 666, 0))
    got = {f.key: f for f in extract_fields(form, [(1, page)])}.get("monthly_wage")
    assert got is not None and got.normalized is None and "decimal point" in _why(got)
