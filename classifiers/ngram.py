"""Form type from the whole page's text: character 1–3-grams, tf-idf, multinomial logistic regression.

Training (training/form_classifier.py) uses scikit-learn; prediction here needs only numpy and the stored
arrays, and reproduces scikit-learn's transform exactly (sublinear tf, stored idf, l2 norm), which
tests/test_classifiers.py checks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from classifiers.base import FormClassifier
from classifiers.text import page_ngrams
from schemas.models import Classification, OcrPage

UNKNOWN = "__unknown__"
"""The class of pages that are no main form of the registry (attachments, unregistered forms)."""


@dataclass(frozen=True)
class NgramModel:
    vocabulary: dict[str, int]
    idf: npt.NDArray[np.float64]
    coef: npt.NDArray[np.float64]  # (classes, features)
    intercept: npt.NDArray[np.float64]  # (classes,)
    classes: tuple[str, ...]

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[Any]]) -> NgramModel:
        terms = [str(t) for t in arrays["vocabulary"]]
        return cls(
            vocabulary={t: i for i, t in enumerate(terms)},
            idf=arrays["idf"].astype(np.float64),
            coef=arrays["coef"].astype(np.float64),
            intercept=arrays["intercept"].astype(np.float64),
            classes=tuple(str(c) for c in arrays["classes"]),
        )

    def to_arrays(self) -> dict[str, npt.NDArray[Any]]:
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        return {
            "vocabulary": np.array(terms, dtype=np.str_),
            "idf": self.idf.astype(np.float32),
            # float16 keeps the artefact small; the rounding (~1e-3 relative) moves no probability
            # by more than a few thousandths, measured in the tests.
            "coef": self.coef.astype(np.float16),
            "intercept": self.intercept.astype(np.float32),
            "classes": np.array(self.classes, dtype=np.str_),
        }

    def vector(self, terms: list[str]) -> npt.NDArray[np.float64]:
        """tf-idf of the terms as scikit-learn computes it: (1 + ln tf) · idf, l2-normalised."""
        x = np.zeros(len(self.idf))
        for term, count in Counter(terms).items():
            j = self.vocabulary.get(term)
            if j is not None:
                x[j] = (1.0 + np.log(count)) * self.idf[j]
        norm = float(np.linalg.norm(x))
        return x / norm if norm > 0 else x

    def probabilities(self, terms: list[str]) -> dict[str, float]:
        z = self.coef @ self.vector(terms) + self.intercept
        z = np.exp(z - z.max())
        p = z / z.sum()
        return {c: float(v) for c, v in zip(self.classes, p, strict=True)}


class NgramClassifier(FormClassifier):
    kind: ClassVar[str] = "ngram"

    def __init__(self, model: NgramModel, version: str) -> None:
        self.model = model
        self._version = version

    @property
    def model_version(self) -> str:
        return f"{self.kind}-{self._version}"

    def probabilities(self, page: OcrPage) -> dict[str, float]:
        return self.model.probabilities(page_ngrams(page))

    def classify(self, page: OcrPage) -> Classification:
        probs = self.probabilities(page)
        label, p = max(probs.items(), key=lambda kv: kv[1])
        if label == UNKNOWN:
            return Classification(label=None, confidence=round(1.0 - p, 4), model_version=self.model_version)
        return Classification(label=label, confidence=round(p, 4), model_version=self.model_version)
