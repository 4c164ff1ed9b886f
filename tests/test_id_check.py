"""公民身份号码 as real archives hold them: the code of the county of issue, not of the birth year.

The test set comes from both generator families (synth/values.py and synth/html/ids.py), which issue
numbers under codes created after the holder's birth year and under codes no table lists: all are
accepted, the unknown ones with a warning; the same numbers with one digit changed are not.
"""

from __future__ import annotations

import random
from datetime import date

import pytest
from stdnum.cn import ric

from pipeline.extract import validators as v
from pipeline.extract.id_check import area_known, check_digit, check_id, is_valid_id
from pipeline.extract.parse import parse_value
from schemas.models import CheckName, CheckOutcome
from schemas.registry_models import FieldKind, FieldSpec
from synth.html.ids import issued_id
from synth.values import make_case

ID_SPEC = FieldSpec(key="id_number", label="公民身份号码", kind=FieldKind.ID_NUMBER)


def _strict(number: str) -> bool:
    """stdnum's check, which ties the code to the birth year (and raises KeyError on a code it lacks)."""
    try:
        return ric.is_valid(number)
    except KeyError:
        return False


def _number(code: str, birth: str, serial: str = "123") -> str:
    body = f"{code}{birth}{serial}"
    return body + check_digit(body)


def _test_set() -> list[str]:
    """Numbers whose code is newer than the birth year or unknown to every table, from both families."""
    rng = random.Random(20261203)
    numbers: list[str] = []
    for _ in range(60):
        birth = date(rng.randint(1930, 1975), rng.randint(1, 12), rng.randint(1, 28))
        numbers.append(issued_id(rng, birth, rng.choice("男女"), rng.choice(["newer", "unknown"])).number)
    pillow = (make_case(rng).person.id_number for _ in range(600))
    numbers += [n for n in pillow if not _strict(n)][:60]
    return numbers


TEST_SET = _test_set()


def test_the_set_holds_numbers_a_birth_year_check_refuses() -> None:
    assert len(TEST_SET) == 120
    assert not any(_strict(n) for n in TEST_SET)
    assert sum(not area_known(n[:6]) for n in TEST_SET) >= 15
    assert sum(area_known(n[:6]) for n in TEST_SET) >= 40


@pytest.mark.parametrize("number", TEST_SET)
def test_numbers_issued_under_newer_or_unknown_codes_are_valid(number: str) -> None:
    assert v.parse_id_number(number) == (number, False)
    parsed = parse_value(ID_SPEC, number)
    assert parsed.normalized == number
    area = next(c for c in parsed.verdicts() if c.check is CheckName.ID_AREA)
    value = next(c for c in parsed.verdicts() if c.check is CheckName.VALUE)
    assert value.outcome is CheckOutcome.PASSED
    if area_known(number[:6]):
        assert area.outcome is CheckOutcome.PASSED
    else:  # a warning, never a rejection
        assert area.outcome is CheckOutcome.NOT_APPLICABLE and area.reason and number[:6] in area.reason


@pytest.mark.parametrize("number", TEST_SET[::7])
def test_the_same_numbers_with_one_digit_changed_are_refused(number: str) -> None:
    for pos in range(18):
        for digit in "0123456789":
            if digit == number[pos]:
                continue
            changed = number[:pos] + digit + number[pos + 1 :]
            assert not is_valid_id(changed), changed
            assert v.parse_id_number(changed) == (None, False)
            assert parse_value(ID_SPEC, changed).normalized is None


def test_a_pensioner_born_1947_with_an_atushi_code_of_1986() -> None:
    number = _number("653001", "19470312", "002")
    assert not _strict(number)  # what the project used to rely on
    got = check_id(number)
    assert got.valid and got.area_known and got.birth == date(1947, 3, 12)


def test_birth_date_must_be_a_real_date_not_in_the_future_nor_before_1880() -> None:
    today = date(2026, 12, 3)
    assert check_id(_number("110105", "19490230"), today=today).reason == "birth date digits are no calendar date"
    assert not check_id(_number("110105", "20270101"), today=today).valid
    assert not check_id(_number("110105", "18791231"), today=today).valid
    assert check_id(_number("110105", "18800101"), today=today).valid
    assert check_id(_number("110105", "20261203"), today=today).valid


def test_codes_stdnum_cannot_place_never_raise() -> None:
    # stdnum's get_birth_place raises on these (an unknown province, a prefecture without counties)
    for code in ("990101", "712345", "653099", "000000"):
        got = check_id(_number(code, "19600101"))
        assert got.valid and not got.area_known
    assert v.id_birth_date(_number("990101", "19600101")) == date(1960, 1, 1)
    assert v.id_birth_date("99010119601301123X") is None
