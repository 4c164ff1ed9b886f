"""Routing: calibrated field confidence against per-kind thresholds, required vs optional fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.calibration.model import Calibration, save_calibration
from pipeline.calibration.thresholds import KindThreshold, Thresholds, save_thresholds
from pipeline.decide import decide_document, is_audit_sample
from pipeline.extract.checks import cross_check
from pipeline.extract.parse import parse_value
from pipeline.settings import DecideSettings
from schemas.models import Classification, Document, DocumentStatus, ExtractedField, FieldStatus
from schemas.registry import get_registry
from schemas.registry_models import FieldKind, FormSpec

FORM = "personal_registration"  # required: id_number, name, form_date; optional: address, sex …
ID = "653101198001010035"  # valid GB 11643, man born 1980-01-01


@pytest.fixture
def settings(tmp_path: Path) -> DecideSettings:
    """P(right) = raw confidence, except names, which the model trusts less; threshold 0.9."""
    cal = save_calibration(
        Calibration(regularization_c=1.0, intercept=0.0, weights={"raw_logit": 1.0, "kind=name": -1.0}),
        tmp_path / "calibration.json",
    )
    entry = KindThreshold(
        threshold=0.9, support=100, precision=1.0, expected_precision=0.99, coverage=0.9, source="measured"
    )
    th = Thresholds(
        calibration_sha256=cal.sha256,
        target_precision=0.995,
        floor=0.9,
        alpha=0.2,
        pooled=entry,
        by_kind={FieldKind.DATE: entry.model_copy(update={"threshold": 0.95})},
    )
    save_thresholds(th, tmp_path / "thresholds.yaml")
    return DecideSettings(calibration_file=tmp_path / "calibration.json", thresholds_file=tmp_path / "thresholds.yaml")


def _form() -> FormSpec:
    return get_registry().form(FORM)


def _doc(fields: list[ExtractedField], label: str | None = FORM, confidence: float = 0.99) -> Document:
    return Document(
        doc_id="d1",
        batch_id="b",
        file_id="f",
        rel_path="a.pdf",
        first_page=1,
        last_page=1,
        classification=Classification(label=label, confidence=confidence, model_version="t"),
        fields=cross_check(fields),  # as assembly does: the checks run between extraction and decision
    )


def _f(key: str, value: str, normalized: str | None, confidence: float) -> ExtractedField:
    """A field as extracted: with the verdict of its own value check."""
    spec = next((s for s in _form().fields if s.key == key), None)
    checks = parse_value(spec, value).verdicts() if spec is not None else []
    return ExtractedField(key=key, label=key, value=value, normalized=normalized, confidence=confidence, checks=checks)


def _good() -> list[ExtractedField]:
    return [
        _f("id_number", ID, ID, 0.99),
        _f("name", "王娟真", "王娟真", 0.9999),
        _f("form_date", "2013年5月12日", "2013-05-12", 0.99),
    ]


def test_all_required_fields_sure_accepts_the_document(settings: DecideSettings) -> None:
    doc = decide_document(_doc(_good()), _form(), settings)
    assert doc.status is DocumentStatus.ACCEPTED and doc.review_reasons == []
    assert all(f.status is FieldStatus.ACCEPTED for f in doc.fields)
    name = next(f for f in doc.fields if f.key == "name")
    assert name.confidence < 0.9999  # calibrated: the model trusts names less than the OCR does
    assert name.features["raw_confidence"] == 0.9999 and name.features["kind"] == "name"
    assert name.features["validator"] == "passed"


def test_required_field_below_its_kind_threshold_sends_to_review(settings: DecideSettings) -> None:
    fields = _good()
    fields[2] = _f("form_date", "2013年5月12日", "2013-05-12", 0.93)  # above 0.9 but below the date 0.95
    doc = decide_document(_doc(fields), _form(), settings)
    assert doc.status is DocumentStatus.REVIEW
    assert len(doc.review_reasons) == 1 and doc.review_reasons[0].startswith("form_date: confidence 0.930 below")
    assert next(f for f in doc.fields if f.key == "form_date").status is FieldStatus.REVIEW


def test_optional_field_below_threshold_is_flagged_not_routed(settings: DecideSettings) -> None:
    fields = [*_good(), _f("address", "北京市朝阳区", "北京市朝阳区", 0.6)]
    doc = decide_document(_doc(fields), _form(), settings)
    assert doc.status is DocumentStatus.ACCEPTED
    address = next(f for f in doc.fields if f.key == "address")
    assert address.status is FieldStatus.REVIEW and "below" in address.reasons[-1]
    strict = settings.model_copy(update={"review_optional_fields": True})
    doc = decide_document(_doc(fields), _form(), strict)
    assert doc.status is DocumentStatus.REVIEW and doc.review_reasons[0].startswith("address:")


def test_missing_or_unparsed_required_field_sends_to_review(settings: DecideSettings) -> None:
    fields = [
        *_good()[:2],
        ExtractedField(key="form_date", label="填表日期", status=FieldStatus.MISSING, reasons=["not found"]),
    ]
    doc = decide_document(_doc(fields), _form(), settings)
    assert doc.review_reasons == ["form_date: not found"]
    absent = decide_document(_doc(_good()[:2]), _form(), settings)  # the extractor left it out entirely
    assert absent.review_reasons == ["form_date: not found"]
    bad_id = [_f("id_number", ID[:-1], None, 0.99), *_good()[1:]]
    doc = decide_document(_doc(bad_id), _form(), settings)
    assert doc.status is DocumentStatus.REVIEW
    id_field = doc.fields[0]
    assert id_field.confidence == 0.0 and id_field.features["validator"] == "failed"


def test_cross_check_disagreement_is_recorded(settings: DecideSettings) -> None:
    fields = [*_good(), _f("sex", "女", "女", 0.99), _f("birth_date", "1980年1月1日", "1980-01-01", 0.99)]
    doc = decide_document(_doc(fields), _form(), settings)
    got = {f.key: f.features["cross_check"] for f in doc.fields}
    assert got["sex"] == "disagreed" and got["id_number"] == "disagreed" and got["birth_date"] == "agreed"
    sex = next(f for f in doc.fields if f.key == "sex")
    assert "sex disagrees with the ID number" in sex.reasons and sex.features["raw_confidence"] == 0.99
    # one of two contradicting readings is wrong: neither is accepted unseen, however sure the OCR was
    assert sex.status is FieldStatus.REVIEW and sex.confidence == 0.0
    assert next(f for f in doc.fields if f.key == "birth_date").status is FieldStatus.ACCEPTED


def test_unknown_or_uncertain_form_goes_to_review(settings: DecideSettings) -> None:
    assert decide_document(_doc([], label=None, confidence=0.0), None, settings).review_reasons == ["form type unknown"]
    doc = decide_document(_doc(_good(), confidence=0.5), _form(), settings)
    assert doc.status is DocumentStatus.REVIEW and doc.review_reasons == ["form type uncertain (0.50)"]


def test_deciding_twice_gives_the_same_document(settings: DecideSettings) -> None:
    fields = [*_good(), _f("address", "北京市朝阳区", "北京市朝阳区", 0.6)]
    once = decide_document(_doc(fields), _form(), settings)
    assert decide_document(once, _form(), settings) == once


def test_per_key_setting_overrides_the_kind_threshold(settings: DecideSettings) -> None:
    strict = settings.model_copy(update={"thresholds": {"id_number": 0.999}})
    doc = decide_document(_doc(_good()), _form(), strict)
    assert doc.status is DocumentStatus.REVIEW and doc.review_reasons[0].startswith("id_number:")


def test_uncalibrated_mode_compares_raw_confidence(settings: DecideSettings) -> None:
    raw = settings.model_copy(update={"calibrated": False, "default_threshold": 0.995})
    doc = decide_document(_doc(_good()), _form(), raw)
    assert [f.key for f in doc.fields if f.status is FieldStatus.ACCEPTED] == ["name"]


def test_shipped_calibration_is_the_default() -> None:
    doc = decide_document(_doc(_good()), _form(), DecideSettings())
    assert all("raw_confidence" in f.features for f in doc.fields)
    assert all(f.confidence != f.features["raw_confidence"] for f in doc.fields)


def test_audit_sample_is_stable_and_near_the_rate() -> None:
    ids = [f"doc{i}" for i in range(4000)]
    picked = [d for d in ids if is_audit_sample(d, 0.05)]
    assert 0.04 < len(picked) / len(ids) < 0.06
    assert picked == [d for d in ids if is_audit_sample(d, 0.05)]
    assert not any(is_audit_sample(d, 0.0) for d in ids[:200])
