"""Calibration: features from extracted fields, the fitted model, thresholds and the stored artefacts."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path

import pytest

from pipeline.calibration.artefacts import CALIBRATION_FILE, THRESHOLDS_FILE, decision_model
from pipeline.calibration.features import (
    FieldFeatures,
    cross_check_state,
    field_features,
    is_label_like,
    value_ending,
    value_shape,
)
from pipeline.calibration.model import Calibration, design_row, load_calibration, save_calibration, typical_endings
from pipeline.calibration.thresholds import (
    choose_threshold,
    choose_thresholds,
    load_thresholds,
    precision_curve,
    save_thresholds,
)
from pipeline.errors import ConfigError
from pipeline.extract.checks import cross_check
from pipeline.extract.parse import parse_value
from pipeline.settings import DecideSettings
from schemas.models import ExtractedField
from schemas.registry import get_registry
from schemas.registry_models import FieldKind
from synth.values import id_number
from training.calibration_fit import fit_calibration, out_of_fold
from training.calibration_samples import Sample, same_value


def _valid_id() -> str:
    """A GB 11643 number of a man born 1980-01-01, from the synthetic generator."""
    return id_number(random.Random(1), date(1980, 1, 1), "男")


def _field(key: str, value: str, normalized: str | None = None, confidence: float = 0.99) -> ExtractedField:
    return ExtractedField(key=key, label=key, value=value, normalized=normalized, confidence=confidence)


def _features(kind: FieldKind, raw: float, key: str = "k", validator: str = "passed") -> FieldFeatures:
    return FieldFeatures.model_validate(
        {
            "key": key,
            "kind": kind,
            "raw_confidence": raw,
            "validator": validator,
            "cross_check": "absent",
            "value_chars": 3,
            "shape": "han",
        }
    )


# ---- features --------------------------------------------------------------------------------


def _cross(fields: list[ExtractedField]) -> dict[str, str]:
    return {f.key: cross_check_state(f) for f in cross_check(fields)}


def test_cross_checks_agree_and_disagree_with_the_id_number() -> None:
    ident = _valid_id()
    fields = [
        _field("id_number", ident, ident),
        _field("birth_date", "1980年1月1日", "1980-01-01"),
        _field("sex", "女", "女"),
    ]
    assert _cross(fields) == {"birth_date": "agreed", "sex": "disagreed", "id_number": "disagreed"}
    fields[2] = _field("sex", "男", "男")
    assert _cross(fields) == {"birth_date": "agreed", "sex": "agreed", "id_number": "agreed"}
    # nothing to compare with: absent, as for a field no check has seen
    assert _cross([_field("sex", "男", "男"), _field("name", "张三", "张三")]) == {"sex": "absent", "name": "absent"}


def test_date_order_is_a_cross_check() -> None:
    fields = [
        _field("birth_date", "x", "1990-01-01"),
        _field("work_start_date", "x", "1985-01-01"),
        _field("retire_date", "x", "2050-01-01"),
    ]
    got = _cross(fields)
    assert got["birth_date"] == "disagreed"
    assert got["work_start_date"] == "disagreed"
    assert got["retire_date"] == "agreed"


def test_checking_twice_replaces_the_verdicts_and_keeps_the_confidence() -> None:
    ident = _valid_id()
    fields = [_field("id_number", ident, ident, confidence=0.8), _field("sex", "女", "女", confidence=0.7)]
    once = cross_check(fields)
    assert cross_check(once) == once
    assert [f.confidence for f in once] == [0.8, 0.7]


def _parsed(key: str, raw: str) -> ExtractedField:
    spec = next(f for f in get_registry().form("personal_registration").fields if f.key == key)
    parsed = parse_value(spec, raw)
    return _field(key, raw, parsed.normalized).model_copy(update={"checks": parsed.verdicts()})


def test_validator_state_passed_repaired_failed() -> None:
    spec = next(f for f in get_registry().form("personal_registration").fields if f.key == "id_number")
    ident = _valid_id()
    assert field_features(_parsed("id_number", ident), spec).validator == "passed"
    misread = ident[:9] + "O" + ident[10:]  # an OCR O for a 0 of the birth date
    assert ident[9] == "0"
    assert field_features(_parsed("id_number", misread), spec).validator == "repaired"
    assert field_features(_parsed("id_number", ident[:-2]), spec).validator == "failed"
    text_spec = next(f for f in get_registry().form("personal_registration").fields if f.key == "address")
    assert field_features(_parsed("address", "北京市"), text_spec).validator == "none"
    # the features read the verdicts: a field no check has seen has nothing passed or failed
    assert field_features(_field("id_number", ident, ident), spec).validator == "none"


def test_raw_confidence_is_kept_once_recorded() -> None:
    field = _field("name", "张三", "张三", confidence=0.42)
    field = field.model_copy(update={"features": {"raw_confidence": 0.97}})
    assert field_features(field, None).raw_confidence == 0.97


def test_value_shape_and_label_like() -> None:
    assert value_shape("2013年5月12日") == "date"
    assert value_shape("二〇一三年五月十二日") == "date"
    assert value_shape("15986153775") == "digits"
    assert value_shape("汉族") == "han"
    assert value_shape("A12-北京") == "mixed"
    assert value_shape("") == "empty"
    assert is_label_like("单位")  # part of 单位名称
    assert not is_label_like("王娟真")


def test_typical_endings_are_learned_per_key() -> None:
    assert value_ending("成都市明德纺织厂") == "厂" and value_ending("2013.05.12") == "#" and value_ending("") == ""
    right = (
        [("成都市明德纺织厂", True)] * 10 + [("上海市恒通商贸有限公司", True)] * 10 + [("成都市明德纺织", False)] * 5
    )
    samples = [
        (_features(FieldKind.TEXT, 0.95, key="unit_name").model_copy(update={"ending": value_ending(v)}), ok)
        for v, ok in right
    ]
    endings = typical_endings(samples)
    assert endings == {"unit_name": ["厂", "司"]}  # the wrong values' 织 is not learned
    cut = samples[-1][0]
    assert design_row(cut, endings)["ending=atypical|key=unit_name"] == 1.0
    assert "ending=typical|key=unit_name" in design_row(samples[0][0], endings)
    assert not any(k.startswith("ending=") for k in design_row(cut, {}))  # too few values: no opinion


def test_same_value_is_the_benchmark_comparison() -> None:
    assert same_value(" 11010519800101001x", "11010519800101001X")
    assert not same_value("男", None)


# ---- model -----------------------------------------------------------------------------------


def _identity_calibration() -> Calibration:
    # logit then sigmoid: the probability equals the raw confidence.
    return Calibration(regularization_c=1.0, intercept=0.0, weights={"raw_logit": 1.0})


def test_probability_follows_the_weights_and_failed_values_are_zero() -> None:
    cal = _identity_calibration()
    assert cal.probability(_features(FieldKind.NAME, 0.8)) == pytest.approx(0.8, abs=1e-6)
    assert cal.probability(_features(FieldKind.NAME, 0.99, validator="failed")) == 0.0
    penalised = cal.model_copy(update={"weights": {"raw_logit": 1.0, "kind=name": -2.0}})
    assert penalised.probability(_features(FieldKind.NAME, 0.8)) < 0.8
    assert penalised.probability(_features(FieldKind.DATE, 0.8)) == pytest.approx(0.8, abs=1e-6)


def test_save_load_round_trip_and_tamper_detection(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    saved = save_calibration(_identity_calibration(), path)
    assert saved.sha256 and load_calibration(path) == saved
    assert [p.name for p in tmp_path.iterdir()] == ["calibration.json"]  # no temp file left behind
    data = json.loads(path.read_text(encoding="utf-8"))
    data["weights"]["raw_logit"] = 5.0
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError, match="sha256"):
        load_calibration(path)
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="calibrate"):
        load_calibration(path)


def _samples(n: int, seed: int) -> list[Sample]:
    """Fields whose rightness depends on the raw confidence and, for names, less so."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = FieldKind.NAME if i % 2 else FieldKind.DATE
        raw = rng.uniform(0.5, 1.0)
        p_right = raw if kind is FieldKind.DATE else raw - 0.3
        out.append(
            Sample(
                doc_key=f"d{i // 4}",
                field_key=kind.value,
                required=True,
                features=_features(kind, raw, key=kind.value),
                right=rng.random() < p_right,
            )
        )
    return out


def test_fit_learns_the_signal_and_is_deterministic() -> None:
    samples = _samples(400, seed=3)
    cal, oof = fit_calibration(samples, [], "test")
    again, _ = fit_calibration(samples, [], "test")
    assert cal.sealed().sha256 == again.sealed().sha256
    assert len(oof) == len(samples)
    hi = cal.probability(_features(FieldKind.DATE, 0.99, key="date"))
    lo = cal.probability(_features(FieldKind.DATE, 0.55, key="date"))
    name = cal.probability(_features(FieldKind.NAME, 0.99, key="name"))
    assert hi > 0.85 > lo
    assert name < hi


def test_out_of_fold_never_sees_the_document() -> None:
    samples = _samples(200, seed=5)
    # One document whose fields are all wrong at a high raw confidence: fitted in sample, the model
    # would bend towards it; out of fold its probabilities come only from the other documents.
    odd = [
        Sample(
            doc_key="odd",
            field_key="date",
            required=True,
            features=_features(FieldKind.DATE, 0.99, key="date"),
            right=False,
        )
        for _ in range(40)
    ]
    probs = out_of_fold(samples + odd, c=100.0)
    in_sample, _ = fit_calibration(samples + odd, [], "test")
    assert min(probs[-40:]) > in_sample.probability(odd[0].features)
    with pytest.raises(ValueError, match="nothing to calibrate"):
        fit_calibration([s for s in samples if s.right], [], "test")


# ---- thresholds ------------------------------------------------------------------------------


def test_precision_curve_and_lowest_threshold_meeting_the_target() -> None:
    probs = [0.999, 0.998, 0.997, 0.996, 0.99, 0.5]
    right = [True, True, True, False, True, False]
    curve = precision_curve(probs, right)
    assert [(p.threshold, p.accepted, p.right) for p in curve][:4] == [
        (0.999, 1, 1),
        (0.998, 2, 2),
        (0.997, 3, 3),
        (0.996, 4, 3),
    ]
    assert curve[2].expected_precision == pytest.approx(0.998)
    # From 0.996 down the model still expects ≥ 99.5 %, but one error in four or five fields would
    # happen only ~2 % of the time at 99.5 %: the measurement vetoes them.
    got = choose_threshold(probs, right, target=0.995, floor=0.0, source="measured")
    assert got.threshold == 0.997 and got.coverage == 0.5 and got.precision == 1.0
    assert got.expected_precision == 0.998
    loose = choose_threshold(probs, right, target=0.9, floor=0.0, source="measured")
    assert loose.threshold == 0.99  # at 0.5, two errors in six would be unlikely at 90 %
    stricter = choose_threshold(probs, right, target=0.9982, floor=0.0, source="measured")
    assert stricter.threshold == 0.998 and stricter.expected_precision == 0.9985
    floored = choose_threshold(probs, right, target=0.5, floor=0.996, source="measured")
    assert floored.threshold == 0.996
    nothing = choose_threshold([0.9], [False], target=0.995, floor=0.0, source="measured")
    assert nothing.threshold == 1.0 and nothing.coverage == 0.0


def test_measured_errors_veto_an_overconfident_model() -> None:
    # The model says 99.9 % everywhere, but 3 of the top 20 were wrong: 99.5 % is not plausible.
    probs = [0.999] * 20
    right = [False] * 3 + [True] * 17
    assert choose_threshold(probs, right, target=0.995, floor=0.0, source="measured").coverage == 0.0
    right = [False] + [True] * 19  # one error in 20 happens one time in ten at 99.5 %
    assert choose_threshold(probs, right, target=0.995, floor=0.0, source="measured", alpha=0.05).coverage == 1.0
    assert choose_threshold(probs, right, target=0.995, floor=0.0, source="measured", alpha=0.2).coverage == 0.0


def test_small_kinds_use_the_pooled_threshold(tmp_path: Path) -> None:
    kinds = [FieldKind.DATE] * 30 + [FieldKind.PHONE] * 3
    probs = [0.996 + i / 10000 for i in range(33)]
    right = [True] * 33
    th = choose_thresholds(kinds, probs, right, target=0.995, floor=0.5, min_support=20, calibration_sha256="x")
    assert th.by_kind[FieldKind.PHONE].source == "pooled"
    assert th.by_kind[FieldKind.PHONE].threshold == th.pooled.threshold
    assert th.by_kind[FieldKind.DATE].source == "measured"
    assert th.for_kind(FieldKind.TEXT) == th.pooled.threshold  # a kind never seen in training
    path = tmp_path / "thresholds.yaml"
    save_thresholds(th, path)
    assert load_thresholds(path) == th
    path.write_text("format_version: 2\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_thresholds(path)


def test_thresholds_for_another_calibration_are_refused(tmp_path: Path) -> None:
    cal = save_calibration(_identity_calibration(), tmp_path / "c.json")
    th = choose_thresholds(
        [FieldKind.DATE], [0.99], [True], target=0.9, floor=0.5, min_support=1, calibration_sha256="0" * 64
    )
    save_thresholds(th, tmp_path / "t.yaml")
    settings = DecideSettings(calibration_file=tmp_path / "c.json", thresholds_file=tmp_path / "t.yaml")
    with pytest.raises(ConfigError, match="another calibration"):
        decision_model(settings)
    settings2 = DecideSettings(calibration_file=tmp_path / "c.json", thresholds_file=tmp_path / "t2.yaml")
    save_thresholds(th.model_copy(update={"calibration_sha256": cal.sha256}), tmp_path / "t2.yaml")
    model = decision_model(settings2)
    assert model is not None and model.calibration.sha256 == cal.sha256


def test_shipped_artefacts_load_and_cover_every_field_kind() -> None:
    model = decision_model(DecideSettings(calibration_file=CALIBRATION_FILE, thresholds_file=THRESHOLDS_FILE))
    assert model is not None
    assert model.calibration.trained_on, "the shipped calibration says what it was trained on"
    assert all(s.seed < 90000 for s in model.calibration.trained_on)
    kinds_in_registry = {f.kind for form in get_registry().forms for f in form.fields}
    assert all(0.0 < model.thresholds.for_kind(k) <= 1.0 for k in kinds_in_registry)
    assert model.thresholds.target_precision >= 0.995


def test_a_key_with_enough_support_gets_its_own_threshold() -> None:
    from pipeline.calibration.thresholds import choose_thresholds
    from schemas.registry_models import FieldKind

    # 150 reliable postcodes and 150 weak unit names, both of kind text: the weak key must not drag the
    # reliable one down, nor the reliable one lift the weak one over the bar.
    keys = ["postcode"] * 150 + ["unit_name"] * 150
    probs = [0.999] * 300
    right = [True] * 150 + [i % 10 != 0 for i in range(150)]
    th = choose_thresholds(
        [FieldKind.TEXT] * 300,
        probs,
        right,
        target=0.995,
        floor=0.9,
        min_support=20,
        calibration_sha256="x",
        keys=keys,
        key_min_support=100,
    )
    assert th.for_field("postcode", FieldKind.TEXT) == 0.999
    assert th.for_field("unit_name", FieldKind.TEXT) == 1.0
    assert th.for_field("address", FieldKind.TEXT) == th.for_kind(FieldKind.TEXT)
