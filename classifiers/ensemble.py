"""Title match and n-gram text model combined, with a calibrated probability that the label is right.

Each of the two proposes a form (the title's best main form, the text model's best class); a small
logistic calibrator, fitted on out-of-fold predictions (training/form_classifier.py), turns what both say
about a candidate into P(candidate is the form). The best candidate wins; below `ABSTAIN_BELOW` the
page is called unknown (label None) so it goes to review instead of being guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from classifiers.base import FormClassifier
from classifiers.ngram import UNKNOWN, NgramClassifier
from classifiers.title_match import FormScore, TitleMatchClassifier
from schemas.models import Classification, OcrPage

ABSTAIN_BELOW = 0.5
# A form named by its body alone (no title line scores ≥ 70 for it) looks exactly like an unregistered
# form built on a known one's layout; such answers never reach the accept threshold (0.75).
UNCONFIRMED_CAP = 0.7
UNCONFIRMED_BELOW = 70.0

# Title scores below ~70 are what any label line gets against some title; above it a title is there.
# The calibrator is linear, so the features carry the thresholds and interactions themselves.
FEATURE_NAMES = (
    "title_score",  # the candidate's best title match, 0–1
    "title_strong",  # (score − 70) / 30, clipped to 0–1
    "title_exact",  # a registry title or variant printed exactly (prefix allowed)
    "title_top",  # the candidate is the title matcher's best form
    "title_margin",  # its lead over the best other form (0 unless title_top), /20, capped at 1
    "title_word_conf",  # OCR confidence of the matched title line (0 unless title_top)
    "other_title_strong",  # another form's title (main or attachment) scores ≥ 85 on this page
    "ngram_p",  # text model's probability of the candidate
    "ngram_logp",  # its log, floored at 1e-4, /10
    "ngram_unknown",  # text model's probability that the page is no main form
    "ngram_top",  # the candidate is the text model's best class
    "agree",  # both name the candidate
    "ngram_p_x_title_strong",
)
STRONG_TITLE = 85.0


@dataclass(frozen=True)
class Evidence:
    """What the two classifiers said about one page."""

    title_scores: list[FormScore]
    ngram: dict[str, float]

    def title_top(self) -> FormScore | None:
        return self.title_scores[0] if self.title_scores else None

    def ngram_top(self) -> tuple[str, float]:
        return max(self.ngram.items(), key=lambda kv: kv[1])

    def candidates(self) -> list[str]:
        found: list[str] = []
        top = self.title_top()
        if top is not None and top.role == "main":
            found.append(top.form_id)
        label, _ = self.ngram_top()
        if label != UNKNOWN and label not in found:
            found.append(label)
        return found

    def features(self, form_id: str) -> npt.NDArray[np.float64]:
        top = self.title_top()
        score = next((s.score for s in self.title_scores if s.form_id == form_id), 0.0)
        strong = min(max((score - 70.0) / 30.0, 0.0), 1.0)
        is_top = top is not None and top.form_id == form_id
        margin = 0.0
        if is_top and top is not None:
            rivals = [s.score for s in self.title_scores[1:] if s.title not in top.title]
            margin = min(max(top.score - (rivals[0] if rivals else 0.0), 0.0) / 20.0, 1.0)
        other_strong = any(s.form_id != form_id and s.score >= STRONG_TITLE for s in self.title_scores[:3])
        p = self.ngram.get(form_id, 0.0)
        ngram_label, _ = self.ngram_top()
        return np.array(
            [
                min(score, 100.0) / 100.0,
                strong,
                float(score >= 99.5),
                float(is_top),
                margin,
                top.word.confidence if is_top and top is not None else 0.0,
                float(other_strong),
                p,
                math.log(max(p, 1e-4)) / 10.0,
                self.ngram.get(UNKNOWN, 0.0),
                float(ngram_label == form_id),
                float(is_top and ngram_label == form_id),
                p * strong,
            ]
        )


@dataclass(frozen=True)
class Calibrator:
    weights: npt.NDArray[np.float64]  # one per feature
    bias: float

    def probability(self, features: npt.NDArray[np.float64]) -> float:
        return 1.0 / (1.0 + math.exp(-(float(features @ self.weights) + self.bias)))


class EnsembleClassifier(FormClassifier):
    kind: ClassVar[str] = "ensemble"

    def __init__(
        self, title: TitleMatchClassifier, ngram: NgramClassifier, calibrator: Calibrator, version: str
    ) -> None:
        self.title = title
        self.ngram = ngram
        self.calibrator = calibrator
        self._version = version

    @property
    def model_version(self) -> str:
        return f"{self.kind}-{self._version}"

    def evidence(self, page: OcrPage) -> Evidence:
        return Evidence(self.title.form_scores(page), self.ngram.probabilities(page))

    def scored_candidates(self, page: OcrPage) -> list[tuple[str, float]]:
        """(form_id, calibrated probability) for each proposed form, best first."""
        ev = self.evidence(page)
        scored = []
        for c in ev.candidates():
            p = self.calibrator.probability(ev.features(c))
            title_score = next((s.score for s in ev.title_scores if s.form_id == c), 0.0)
            scored.append((c, min(p, UNCONFIRMED_CAP) if title_score < UNCONFIRMED_BELOW else p))
        return sorted(scored, key=lambda cp: cp[1], reverse=True)

    def classify(self, page: OcrPage) -> Classification:
        scored = self.scored_candidates(page)
        if not scored or scored[0][1] < ABSTAIN_BELOW:
            # Unknown: the confidence is that of the best registry guess, so it is always low.
            best = scored[0][1] if scored else 0.0
            return Classification(label=None, confidence=round(best, 4), model_version=self.model_version)
        label, p = scored[0]
        return Classification(label=label, confidence=round(p, 4), model_version=self.model_version)
