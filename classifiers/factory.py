"""Building the classifiers the pipeline uses: title matching from the registry, the n-gram model and
the ensemble from the trained artefact in classifiers/artifacts/."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from classifiers.artefact import Artefact, CorruptModelError, load_artefact
from classifiers.ensemble import FEATURE_NAMES, Calibrator, EnsembleClassifier
from classifiers.ngram import NgramClassifier, NgramModel
from classifiers.title_match import TitleCandidate, TitleMatchClassifier
from schemas.registry import Registry

log = logging.getLogger(__name__)

ARTEFACT_DIR = Path(__file__).parent / "artifacts"
DEFAULT_ARTEFACT = ARTEFACT_DIR / "form_ngram.npz"


def build_title_classifier(registry: Registry) -> TitleMatchClassifier:
    candidates = [
        TitleCandidate(form_id=form_id, title=title, role=registry.form(form_id).role)
        for form_id, title in registry.title_variants()
    ]
    return TitleMatchClassifier(candidates, version=f"registry-v{registry.version}")


def build_ensemble(registry: Registry, artefact: Artefact) -> EnsembleClassifier:
    """The ensemble from a loaded artefact; CorruptModelError when its arrays do not fit together."""
    try:
        model = NgramModel.from_arrays(artefact.arrays)
        weights = artefact.arrays["calibrator_weights"].astype(np.float64)
        bias = float(artefact.arrays["calibrator_bias"][0])
    except KeyError as exc:
        raise CorruptModelError(f"classifier artefact lacks array {exc}") from None
    n_classes, n_features = model.coef.shape
    if n_classes != len(model.classes) or n_features != len(model.vocabulary) or len(model.idf) != n_features:
        raise CorruptModelError("classifier artefact: coefficient, class and vocabulary sizes disagree")
    if len(weights) != len(FEATURE_NAMES):
        raise CorruptModelError(f"calibrator has {len(weights)} weights, the ensemble uses {len(FEATURE_NAMES)}")
    missing = {f.form_id for f in registry.main_forms()} - set(model.classes)
    if missing:
        # Still usable: title matching alone can name these forms, at lower calibrated confidence.
        log.warning("the n-gram model knows %d main forms of the registry less; retrain it", len(missing))
    version = f"{artefact.sha256[:12]}-registry-v{registry.version}"
    return EnsembleClassifier(
        build_title_classifier(registry),
        NgramClassifier(model, version=artefact.sha256[:12]),
        Calibrator(weights=weights, bias=bias),
        version=version,
    )


def load_ensemble(registry: Registry, path: Path = DEFAULT_ARTEFACT) -> EnsembleClassifier:
    return build_ensemble(registry, load_artefact(path))
