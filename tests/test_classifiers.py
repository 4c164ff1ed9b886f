"""Form-type classifiers: n-gram model against scikit-learn, the artefact's checks, the committed
ensemble on registry forms and on pages that are no main form."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from classifiers.artefact import (
    FORMAT_VERSION,
    CorruptModelError,
    IncompatibleModelError,
    load_artefact,
    manifest_path,
    save_artefact,
)
from classifiers.ensemble import ABSTAIN_BELOW, EnsembleClassifier
from classifiers.factory import DEFAULT_ARTEFACT, build_ensemble, load_ensemble
from classifiers.ngram import UNKNOWN, NgramModel
from classifiers.text import page_ngrams
from pipeline.decide import DEFAULT_FORM_THRESHOLD
from pipeline.errors import ConfigError
from schemas.registry import get_registry
from synth import GroundTruth
from training.form_classifier import _check_seed, fit_ngram, fit_sklearn
from training.registry_pages import GENERIC_LABELS, form_labels, synth_page


@pytest.fixture(scope="module")
def ensemble() -> EnsembleClassifier:
    return load_ensemble(get_registry())


def _small_training() -> tuple[list[list[str]], list[str], np.ndarray]:
    rng = random.Random(3)
    titles = {"a": "个人注册登记表", "b": "养老保险待遇审核表", UNKNOWN: "居民身份证复印件"}
    terms, labels = [], []
    for label, title in titles.items():
        for _ in range(6):
            terms.append(page_ngrams(synth_page(title, rng.sample(GENERIC_LABELS, 5), rng)))
            labels.append(label)
    return terms, labels, np.ones(len(labels))


def test_ngram_model_reproduces_sklearn_probabilities() -> None:
    terms, labels, weights = _small_training()
    vec, clf = fit_sklearn(terms, labels, weights, seed=0)
    model = fit_ngram(terms, labels, weights, seed=0)
    expected = clf.predict_proba(vec.transform(terms))
    got = np.array([[model.probabilities(t)[c] for c in clf.classes_] for t in terms])
    assert np.allclose(got, expected, atol=1e-9)
    # the stored form (float16 coefficients) moves probabilities by little
    stored = NgramModel.from_arrays(model.to_arrays())
    got16 = np.array([[stored.probabilities(t)[c] for c in clf.classes_] for t in terms])
    assert np.abs(got16 - expected).max() < 5e-3


def test_artefact_round_trip_and_refusals(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    arrays = {"w": np.arange(5, dtype=np.float32), "names": np.array(["甲", "乙"], dtype=np.str_)}
    digest = save_artefact(path, arrays, {"note": "x"})
    loaded = load_artefact(path)
    assert loaded.sha256 == digest and loaded.meta == {"note": "x"}
    assert list(loaded.arrays["names"]) == ["甲", "乙"] and loaded.arrays["w"][4] == 4
    assert not list(tmp_path.glob(".*.tmp"))

    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptModelError, match="sha256"):
        load_artefact(path)

    save_artefact(path, arrays, {})
    manifest = json.loads(manifest_path(path).read_text(encoding="utf-8"))
    manifest["format_version"] = FORMAT_VERSION + 1
    manifest_path(path).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IncompatibleModelError):
        load_artefact(path)

    manifest_path(path).unlink()
    with pytest.raises(CorruptModelError, match="missing"):
        load_artefact(path)
    with pytest.raises(ValueError, match="pickle"):
        save_artefact(path, {"bad": np.array([{"a": 1}], dtype=object)}, {})


def test_artefact_with_missing_arrays_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    full = load_artefact(DEFAULT_ARTEFACT).arrays
    save_artefact(path, {k: v for k, v in full.items() if k != "calibrator_bias"}, {})
    with pytest.raises(CorruptModelError, match="calibrator_bias"):
        build_ensemble(get_registry(), load_artefact(path))


def test_committed_artefact_is_small_and_covers_every_main_form() -> None:
    assert DEFAULT_ARTEFACT.stat().st_size < 2_000_000
    artefact = load_artefact(DEFAULT_ARTEFACT)
    classes = {str(c) for c in artefact.arrays["classes"]}
    assert {f.form_id for f in get_registry().main_forms()} | {UNKNOWN} == classes


def test_every_main_form_is_named_confidently_from_its_title(ensemble: EnsembleClassifier) -> None:
    rng = random.Random(11)
    wrong = []
    for form in get_registry().main_forms():
        page = synth_page(form.title, form_labels(form, rng), rng, noise=0.0, title_loss=0.0)
        cls = ensemble.classify(page)
        if cls.label != form.form_id or cls.confidence < DEFAULT_FORM_THRESHOLD:
            wrong.append((form.form_id, cls.label, cls.confidence))
    assert wrong == []


@pytest.mark.parametrize(
    "title",
    ["居民身份证复印件", "职工长期护理保险登记表", "退役士兵技能培训补贴申请表", "房屋租赁合同"],
)
def test_pages_of_no_main_form_are_unknown(ensemble: EnsembleClassifier, title: str) -> None:
    rng = random.Random(5)
    cls = ensemble.classify(
        synth_page(title, ["姓名", "性别", "公民身份号码", "单位名称", "备注"], rng, noise=0.0, title_loss=0.0)
    )
    assert cls.label is None
    assert cls.confidence < ABSTAIN_BELOW


def test_region_prefix_and_ocr_damage_keep_the_label(ensemble: EnsembleClassifier) -> None:
    registry = get_registry()
    form = registry.form("personal_registration")
    rng = random.Random(2)
    cls = ensemble.classify(
        synth_page("克孜勒苏柯尔克孜自治州个人注删登记表", form_labels(form, rng), rng, noise=0.0, title_loss=0.0)
    )
    assert cls.label == "personal_registration" and cls.confidence >= DEFAULT_FORM_THRESHOLD


def test_training_refuses_held_out_batches(tmp_path: Path) -> None:
    (tmp_path / "batch").mkdir()
    (tmp_path / "batch" / "ground_truth.json").write_text(GroundTruth(seed=90001).model_dump_json())
    with pytest.raises(ConfigError, match="reserved"):
        _check_seed(tmp_path)
    (tmp_path / "batch" / "ground_truth.json").write_text(GroundTruth(seed=1001).model_dump_json())
    _check_seed(tmp_path)
