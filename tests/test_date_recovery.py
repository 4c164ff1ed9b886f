"""Dates whose 年/月/日 the recogniser lost are recovered only when exactly one reading is left."""

from __future__ import annotations

import random
from datetime import date

from pipeline.extract import validators as v
from pipeline.extract.parse import parse_value
from schemas.models import CheckName, CheckOutcome
from schemas.registry import get_registry
from synth.values import format_date, random_date


def _spec(form_id: str, key: str):  # type: ignore[no-untyped-def]
    return next(f for f in get_registry().form(form_id).fields if f.key == key)


def test_dates_with_their_marks_lost_are_recovered_only_when_one_reading_is_left() -> None:
    rng = random.Random(4)
    recovered = refused = 0
    for _ in range(2000):
        d = random_date(rng, date(1950, 1, 1), date(2024, 12, 31))
        printed = format_date(d, "cn")  # 2019年5月27日
        lost = printed.replace("月", "").replace("日", "")
        if rng.random() < 0.5:
            lost = lost.replace("年", "")  # 2019527
        got = v.recover_date(lost)
        if got is None:
            refused += 1
        else:
            recovered += 1
            assert got == d, (printed, lost, got)  # never a guess: the one reading is the right one
    assert recovered > 1000 and refused > 100


def test_ambiguous_or_impossible_runs_are_refused() -> None:
    assert v.recover_date("2019527") == date(2019, 5, 27)
    assert v.recover_date("2003年1027") == date(2003, 10, 27)
    assert v.recover_date("2019112") is None  # 1 Nov or 12 Jan
    assert v.recover_date("2619年7月2") is None  # a year out of range and a day cut short
    assert v.recover_date("2019年13") is None  # too little left to tell month from day
    assert v.recover_date("z020-03-17") == date(2020, 3, 17)
    assert v.parse_date("2018年.8月11日") == date(2018, 8, 11)


def test_a_recovered_date_is_marked_as_not_read_as_printed() -> None:
    spec = _spec("personal_registration", "form_date")
    parsed = parse_value(spec, "2019527")
    assert parsed.normalized == "2019-05-27"
    outcomes = {c.check: c.outcome for c in parsed.verdicts()}
    assert outcomes[CheckName.AS_PRINTED] is CheckOutcome.FAILED


def test_a_year_and_month_alone_is_a_date_only_where_the_label_asks_for_a_month() -> None:
    assert parse_value(_spec("personal_registration", "form_date"), "2003年10").normalized is None
    change = next(f for form in get_registry().forms for f in form.fields if f.label == "增减年月")
    assert parse_value(change, "2003年10月").normalized == "2003-10-01"
