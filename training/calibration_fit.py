"""Fit the calibrator on labelled fields and predict out of fold for choosing thresholds."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from pipeline.calibration.model import Calibration, TrainingSource, design_row, typical_endings
from training.calibration_samples import Sample

C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0)


def _fit(samples: Sequence[Sample], c: float) -> Calibration:
    # A value that failed its validator is never accepted (probability 0 by rule): nothing to learn.
    samples = [s for s in samples if s.features.validator != "failed"]
    endings = typical_endings((s.features, s.right) for s in samples)
    vec = DictVectorizer(sparse=False)
    x = vec.fit_transform([design_row(s.features, endings) for s in samples])
    y = np.array([s.right for s in samples], dtype=int)
    if len(set(y)) < 2:
        raise ValueError("training fields are all right or all wrong: nothing to calibrate on")
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit(x, y)
    names = vec.get_feature_names_out()
    weights = {str(n): round(float(w), 6) for n, w in zip(names, model.coef_[0], strict=True) if w != 0.0}
    return Calibration(
        regularization_c=c,
        intercept=round(float(model.intercept_[0]), 6),
        weights=weights,
        typical_endings=endings,
    )


def out_of_fold(samples: Sequence[Sample], c: float, folds: int = 5) -> list[float]:
    """Each field's probability from a model that never saw its document."""
    groups = [s.doc_key for s in samples]
    probs = [0.0] * len(samples)
    splitter = GroupKFold(n_splits=min(folds, len(set(groups))))
    for train_idx, test_idx in splitter.split(np.zeros(len(samples)), groups=groups):
        cal = _fit([samples[i] for i in train_idx], c)
        for i in test_idx:
            probs[i] = cal.probability(samples[i].features)
    return probs


def log_loss(probs: Sequence[float], right: Sequence[bool]) -> float:
    eps = 1e-6
    total = sum(-math.log(max(p, eps) if ok else max(1 - p, eps)) for p, ok in zip(probs, right, strict=True))
    return total / len(probs)


def fit_calibration(
    samples: Sequence[Sample], sources: list[TrainingSource], extractor_note: str
) -> tuple[Calibration, list[float]]:
    """The calibration with the regularisation that predicts held-out documents best, and its
    out-of-fold probabilities (for thresholds: in-sample ones would flatter the model)."""
    right = [s.right for s in samples]
    scored = []
    for c in C_GRID:
        probs = out_of_fold(samples, c)
        scored.append((log_loss(probs, right), c, probs))
    _, best_c, best_probs = min(scored, key=lambda t: (t[0], t[1]))
    cal = _fit(samples, best_c)
    cal = cal.model_copy(update={"trained_on": sources, "extractor_note": extractor_note})
    return cal, best_probs
