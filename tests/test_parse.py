"""The one parser per field kind: ranges, choices and word lists read from the registry."""

from __future__ import annotations

import pytest

from pipeline.extract import parse
from pipeline.extract.parse import parse_value
from schemas.models import CheckName, CheckOutcome
from schemas.registry import Registry, get_registry
from schemas.registry_models import FieldSpec


def _spec(key: str, form_id: str = "unit_staff_change") -> FieldSpec:
    return next(s for s in get_registry().form(form_id).fields if s.key == key)


def _with(monkeypatch: pytest.MonkeyPatch, **update: object) -> Registry:
    changed = get_registry().model_copy(update=update)
    monkeypatch.setattr(parse, "get_registry", lambda: changed)
    return changed


def test_the_amount_range_is_the_registrys(monkeypatch: pytest.MonkeyPatch) -> None:
    base = _spec("contribution_base")
    low, high = get_registry().amount_ranges["contribution_base"]
    assert parse_value(base, f"{low - 1:.2f}").normalized is None
    assert parse_value(base, f"{low:.2f}").normalized == f"{low:.2f}"
    assert parse_value(base, f"{high + 1:.2f}").normalized is None
    _with(monkeypatch, amount_ranges={"contribution_base": (0.0, 50.0)})
    assert parse_value(base, "1.00").normalized == "1.00"
    refused = parse_value(base, "4500.00")
    assert refused.normalized is None and "outside 0–50" in (refused.reason or "")


def test_future_dates_and_form_words_are_the_registrys(monkeypatch: pytest.MonkeyPatch) -> None:
    retire, birth, name = _spec("retire_date", "pension_benefit_review"), _spec("birth_date"), _spec("name")
    assert parse_value(retire, "2060年1月1日").normalized == "2060-01-01"
    assert parse_value(birth, "2060年1月1日").normalized is None
    assert parse_value(name, "签字").normalized is None
    assert parse_value(name, "韩博").normalized == "韩博"
    registry = _with(monkeypatch, form_words=["韩博"])
    assert parse_value(name, "韩博").normalized is None and parse_value(name, "签字").normalized == "签字"
    _with(monkeypatch, future_dates=registry.future_dates.model_copy(update={"keys": []}))
    assert parse_value(retire, "2060年1月1日").normalized is None


def test_choices_are_normalised_and_must_be_one() -> None:
    kind = _spec("change_type")
    assert parse_value(kind, "增 加").normalized == "增加"
    assert parse_value(kind, "增加减少").normalized is None  # two choices: which one is unclear
    assert "choices" in (parse_value(kind, "调动").reason or "")


def test_the_verdicts_say_what_the_check_found_and_never_carry_a_confidence() -> None:
    ident = _spec("id_number")
    good = "11010519491231002X"
    assert [(c.check, c.outcome) for c in parse_value(ident, good).verdicts()] == [
        (CheckName.VALUE, CheckOutcome.PASSED),
        (CheckName.ID_AREA, CheckOutcome.PASSED),
    ]
    repaired = parse_value(ident, good.replace("0", "O", 1))
    assert repaired.normalized == good
    assert [(c.check, c.outcome) for c in repaired.verdicts()] == [
        (CheckName.VALUE, CheckOutcome.PASSED),
        (CheckName.ID_AREA, CheckOutcome.PASSED),
        (CheckName.AS_PRINTED, CheckOutcome.FAILED),
    ]
    failed = parse_value(ident, good[:-1] + "1").verdicts()
    assert [(c.check, c.outcome) for c in failed] == [(CheckName.VALUE, CheckOutcome.FAILED)]
    assert "GB 11643" in (failed[0].reason or "")
    text = parse_value(_spec("change_reason"), "调入。").verdicts()
    assert [(c.check, c.outcome) for c in text] == [(CheckName.VALUE, CheckOutcome.NOT_APPLICABLE)]
