"""Train the n-gram form classifier and the ensemble's calibrator; write the artefact.

    .venv/bin/python -m training.form_classifier --batch /tmp/train1001 --out classifiers/artifacts/form_ngram.npz

Training data: first pages and attachment pages of stored benchmark batches (`bench/accuracy.py
--keep DIR`, development seeds only), harder variants of them (title lost, damaged, or replaced by an
unregistered title), and pages synthesised from the registry for every main form and for "unknown".
The calibrator is fitted on 5-fold out-of-fold predictions, so it learns how far the n-gram model can
be trusted on pages it has not seen. Deterministic for a given --seed and input.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from classifiers.artefact import save_artefact
from classifiers.ensemble import FEATURE_NAMES, Evidence
from classifiers.factory import DEFAULT_ARTEFACT, build_title_classifier
from classifiers.ngram import UNKNOWN, NgramModel
from classifiers.text import page_ngrams
from classifiers.title_match import FormScore, TitleMatchClassifier
from pipeline.errors import ConfigError
from schemas.registry import Registry, get_registry
from synth import GroundTruth
from training.form_samples import Sample, stored_samples, variants
from training.registry_pages import FAKE_CORES_TRAIN, FAKE_CORES_VARIANTS, fake_titles, main_form_pages, unknown_pages

log = logging.getLogger(__name__)

HELD_OUT_SEEDS = 90000  # seeds from here on are for measurement; training must never see them
MAX_FEATURES = 6000
C = 20.0
REAL_WEIGHT = 3.0  # scanned pages count more than synthesised ones
FOLDS = 5


@dataclass(frozen=True)
class TrainingSet:
    samples: list[Sample]
    terms: list[list[str]]
    weights: npt.NDArray[np.float64]


def _identity(doc: list[str]) -> list[str]:
    return doc  # pages arrive as n-gram lists already (classifiers.text.page_ngrams)


def _target(label: str | None) -> str:
    return label if label is not None else UNKNOWN


def fit_sklearn(
    terms: Sequence[list[str]], labels: Sequence[str], weights: npt.NDArray[np.float64], seed: int
) -> tuple[TfidfVectorizer, LogisticRegression]:
    vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=2, max_features=MAX_FEATURES, dtype=np.float64)
    x = vec.fit_transform(terms)
    clf = LogisticRegression(C=C, max_iter=3000, random_state=seed)
    clf.fit(x, list(labels), sample_weight=weights)
    return vec, clf


def fit_ngram(
    terms: Sequence[list[str]], labels: Sequence[str], weights: npt.NDArray[np.float64], seed: int
) -> NgramModel:
    vec, clf = fit_sklearn(terms, labels, weights, seed)
    return NgramModel(
        vocabulary={str(t): int(i) for t, i in vec.vocabulary_.items()},
        idf=np.asarray(vec.idf_, dtype=np.float64),
        coef=np.asarray(clf.coef_, dtype=np.float64),
        intercept=np.asarray(clf.intercept_, dtype=np.float64),
        classes=tuple(str(c) for c in clf.classes_),
    )


def _check_seed(work: Path) -> None:
    truth = GroundTruth.model_validate_json((work / "batch" / "ground_truth.json").read_text(encoding="utf-8"))
    if truth.seed >= HELD_OUT_SEEDS:
        raise ConfigError(f"{work} was generated with seed {truth.seed}, reserved for measurement; not training on it")


def training_set(registry: Registry, batches: Sequence[Path], per_form: int, n_unknown: int, seed: int) -> TrainingSet:
    real: list[Sample] = []
    for work in batches:
        _check_seed(work)
        real.extend(stored_samples(work))
    fakes = fake_titles(registry, FAKE_CORES_VARIANTS)
    real_all = real + variants(real, fakes, seed)
    synth = [Sample(p, label, f"synth:{label}") for p, label in main_form_pages(registry, per_form, seed)]
    synth += [Sample(p, None, "synth:unknown") for p in unknown_pages(registry, n_unknown, seed, FAKE_CORES_TRAIN)]
    samples = real_all + synth
    weights = np.array([REAL_WEIGHT] * len(real_all) + [1.0] * len(synth))
    log.info("%d scanned pages, %d variants, %d synthesised", len(real), len(real_all) - len(real), len(synth))
    return TrainingSet(samples, [page_ngrams(s.page) for s in samples], weights)


def candidate_rows(
    title_scores: list[FormScore], probs: dict[str, float], truth: str | None
) -> list[tuple[npt.NDArray[np.float64], int]]:
    ev = Evidence(title_scores, probs)
    return [(ev.features(c), int(c == truth)) for c in ev.candidates()]


def fit_calibrator(
    data: TrainingSet, titles: TitleMatchClassifier, seed: int
) -> tuple[npt.NDArray[np.float64], float, int]:
    """Logistic calibrator on out-of-fold n-gram probabilities; returns weights, bias, row count."""
    n = len(data.samples)
    order = np.random.default_rng(seed).permutation(n)
    folds = np.array_split(order, FOLDS)
    title_scores = [titles.form_scores(s.page) for s in data.samples]
    labels = [_target(s.label) for s in data.samples]
    rows: list[tuple[npt.NDArray[np.float64], int]] = []
    row_weights: list[float] = []
    for k, held in enumerate(folds):
        train_idx = np.concatenate([f for j, f in enumerate(folds) if j != k])
        model = fit_ngram(
            [data.terms[i] for i in train_idx], [labels[i] for i in train_idx], data.weights[train_idx], seed
        )
        for i in held:
            new = candidate_rows(title_scores[i], model.probabilities(data.terms[i]), data.samples[i].label)
            rows.extend(new)
            row_weights.extend([float(data.weights[i])] * len(new))
        log.info("calibration fold %d/%d done", k + 1, FOLDS)
    x = np.stack([r[0] for r in rows])
    y = np.array([r[1] for r in rows])
    cal = LogisticRegression(C=10.0, max_iter=2000)
    cal.fit(x, y, sample_weight=np.array(row_weights))
    return np.asarray(cal.coef_[0], dtype=np.float64), float(cal.intercept_[0]), len(rows)


def train(batches: Sequence[Path], out: Path, per_form: int, n_unknown: int, seed: int) -> str:
    started = time.monotonic()
    registry = get_registry()
    data = training_set(registry, batches, per_form, n_unknown, seed)
    titles = build_title_classifier(registry)
    weights, bias, n_rows = fit_calibrator(data, titles, seed)
    model = fit_ngram(data.terms, [_target(s.label) for s in data.samples], data.weights, seed)
    arrays = model.to_arrays()
    arrays["calibrator_weights"] = weights.astype(np.float64)
    arrays["calibrator_bias"] = np.array([bias], dtype=np.float64)
    meta = {
        "registry_version": registry.version,
        "batches": [str(b) for b in batches],
        "seed": seed,
        "per_form": per_form,
        "unknown_pages": n_unknown,
        "samples": len(data.samples),
        "calibration_rows": n_rows,
        "features": list(FEATURE_NAMES),
        "calibrator": dict(zip(FEATURE_NAMES, (round(float(w), 4) for w in weights), strict=True)),
        "max_features": MAX_FEATURES,
        "C": C,
    }
    digest = save_artefact(out, arrays, meta)
    log.info(
        "wrote %s (%d bytes, sha256 %s) in %.0f s", out, out.stat().st_size, digest[:12], time.monotonic() - started
    )
    return digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=Path, action="append", default=None, help="stored batch (repeatable)")
    parser.add_argument("--out", type=Path, default=DEFAULT_ARTEFACT)
    parser.add_argument("--per-form", type=int, default=30, help="synthesised pages per main form")
    parser.add_argument("--unknown", type=int, default=800, help="synthesised pages of no main form")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    batches = args.batch or [Path("/tmp/train1001")]
    digest = train(batches, args.out, args.per_form, args.unknown, args.seed)
    print(f"{args.out} sha256 {digest}")


if __name__ == "__main__":
    main()
