from datetime import date

import pytest

from pipeline.extract import validators as v
from pipeline.logs import mask_ids

VALID_ID = "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2013年5月12日", date(2013, 5, 12)),
        ("2013年05月12日", date(2013, 5, 12)),
        ("2013.05.12", date(2013, 5, 12)),
        ("2013-5-12", date(2013, 5, 12)),
        ("2013/05/12", date(2013, 5, 12)),
        ("20130512", date(2013, 5, 12)),
        ("二〇一三年五月十二日", date(2013, 5, 12)),
        ("一九九八年十二月三十一日", date(1998, 12, 31)),
        ("２０１３年５月１２日", date(2013, 5, 12)),
    ],
)
def test_dates_in_every_printed_form(raw: str, expected: date) -> None:
    assert v.parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["2013年13月1日", "2013.02.30", "1850年1月1日", "不详", "3013-01-01"])
def test_impossible_dates_are_refused(raw: str) -> None:
    assert v.parse_date(raw) is None


def test_id_number_check_digit() -> None:
    assert v.parse_id_number(VALID_ID) == (VALID_ID, False)
    assert v.parse_id_number("110105194912310021") == (None, False)


def test_id_number_repair_only_when_unique() -> None:
    assert v.parse_id_number("11O105I9491231002X") == (VALID_ID, True)
    # A digit misread as another digit cannot be repaired: many candidates pass nothing or too much.
    assert v.parse_id_number("110105194912310029")[0] is None


def test_unit_code_gb32100() -> None:
    assert v.parse_unit_code("91110000600037341L") == "91110000600037341L"
    assert v.parse_unit_code("91110000600037341A") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张三", "张三"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽.买买提", "阿依古丽·买买提"),
        ("张", None),
        ("12345", None),
    ],
)
def test_names(raw: str, expected: str | None) -> None:
    assert v.parse_name(raw) == expected


def test_amounts_and_sex() -> None:
    assert v.parse_amount("1,234.5元") == "1234.50"
    assert v.parse_sex(" 女 ") == "女"
    assert v.parse_sex("未知") is None


def test_id_birth_date_and_sex() -> None:
    assert v.id_birth_date(VALID_ID) == date(1949, 12, 31)
    assert v.id_sex(VALID_ID) == "女"


def test_ids_are_masked_in_logs() -> None:
    line = f"person {VALID_ID} done"
    masked = mask_ids(line)
    assert VALID_ID not in masked
    assert masked.startswith("person 1101") and masked.endswith("2X done")
    assert v.mask_id(VALID_ID) == "1101************2X"


def test_chinese_year_with_arabic_zero_and_far_future_range() -> None:
    assert v.parse_date("二0〇二年八月十一日") == date(2002, 8, 11)
    assert v.parse_date("二〇三七年一月二十四日") is None
    assert v.parse_date("二〇三七年一月二十四日", latest=date(2090, 1, 1)) == date(2037, 1, 24)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("18778861267", "18778861267"), ("010-6512 3456", "01065123456"), ("2017年03月17日", None), ("上海市321号", None)],
)
def test_phone_numbers_hold_no_han_text(raw: str, expected: str | None) -> None:
    assert v.parse_phone(raw) == expected


ENDINGS = ["有限责任公司", "有限公司", "公司", "厂", "局", "馆", "医院", "院", "支行", "行", "委员会", "会"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("北京市东方科技有限公司", "北京市东方科技有限公司"),
        ("哈尔滨市道里区联创商贸有限责任公司", "哈尔滨市道里区联创商贸有限责任公司"),
        ("成都市博远纺织厂", "成都市博远纺织厂"),
        ("中国工商银行 北京市分行", "中国工商银行北京市分行"),
        ("华为技术(深圳)有限公司", "华为技术（深圳）有限公司"),
        ("西安市雁塔区卫生健康委员会", "西安市雁塔区卫生健康委员会"),
    ],
)
def test_whole_unit_names_pass(raw: str, expected: str) -> None:
    assert v.parse_org_name(raw, ENDINGS) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "北京市朝阳区",  # 教育局 under the seal
        "南京市玄武区书",  # 图书馆 half read
        "哈尔滨市道里区联创商贸有限责住公",  # cut inside 公司
        "限公司",  # what is left of a seal's text
        "公司",
        "2019年5月",
        "13812345678",
    ],
)
def test_unit_names_cut_short_or_not_names_fail(raw: str) -> None:
    assert v.parse_org_name(raw, ENDINGS) is None


def test_variant_glyphs_read_as_the_standard_character() -> None:
    assert v.parse_name("顾钧眞") == "顾钧真"
    assert v.standard_forms("靑年路") == "青年路"


@pytest.mark.parametrize(
    "raw", ["上海市恒通商贸有限任公司", "天成运输有公司", "兴业电子股份限公司", "北京市运输限公司"]
)
def test_unit_name_with_a_character_of_its_form_dropped_fails(raw: str) -> None:
    endings = [*ENDINGS, "股份有限公司", "分理处", "处", "合作社", "社"]
    assert v.parse_org_name(raw, endings) is None


@pytest.mark.parametrize("raw", ["武汉市市政工程管理处", "巴音郭楞蒙古自治州供销合作社", "成都市鑫源电子股份有限公司"])
def test_forms_that_share_characters_with_longer_forms_pass(raw: str) -> None:
    endings = [*ENDINGS, "股份有限公司", "分理处", "处", "合作社", "联合社", "社"]
    assert v.parse_org_name(raw, endings) == raw


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("44,500.00", "44500.00"), ("44.500.00", "44500.00"), ("17.871.12", "17871.12"), ("¥47,877.22", "47877.22")],
)
def test_amount_separators_are_read_by_position(raw: str, expected: str) -> None:
    # OCR reads a handwritten thousands comma as a point: never 44.50 for 44,500.00
    assert v.parse_amount(raw) == expected


@pytest.mark.parametrize("raw", ["44.500", "12.34.56", "元"])
def test_ambiguous_or_broken_amounts_are_refused(raw: str) -> None:
    assert v.parse_amount(raw) is None


def test_a_unit_form_read_twice_or_begun_and_not_finished_fails() -> None:
    endings = [*ENDINGS, "中学", "学"]
    assert v.parse_org_name("北京市东城区第三中学中学", endings) is None
    assert v.parse_org_name("成都市汇源机械制造有限公局", endings) is None
    assert v.parse_org_name("北京市东城区第三中学", endings) == "北京市东城区第三中学"
