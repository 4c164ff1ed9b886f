"""Form type from the printed title, matched fuzzily against the registry's titles and variants."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import ClassVar

from rapidfuzz import fuzz

from classifiers.base import FormClassifier
from pipeline.text import normalize_text
from schemas.models import Classification, OcrPage, Word

# Titles sit in the top part of a form; values lower down often repeat form words (变更, 登记 …).
TITLE_REGION = 0.28
# Region prefixes (北京市…, 克孜勒苏柯尔克孜自治州…) make a printed title longer than the registry's.
MAX_PREFIX_CHARS = 14
MIN_SCORE = 72.0


@dataclass(frozen=True)
class TitleCandidate:
    form_id: str
    title: str
    role: str


@dataclass(frozen=True)
class FormScore:
    form_id: str
    role: str
    score: float
    """0–100 plus a small bonus for long titles: the best line against the form's best title."""
    word: Word
    title: str
    """the registry title or variant (normalised) that matched"""


@dataclass(frozen=True)
class TitleMatch:
    form_id: str
    role: str
    score: float
    """0–100: how well the best line matches the title."""
    margin: float
    """score minus the best score of any *other* form."""
    word: Word


def _line_candidates(page: OcrPage) -> list[Word]:
    limit = page.height * TITLE_REGION
    top = [w for w in page.words if w.box[1] < limit]
    # Neighbouring fragments of a title split by OCR are joined so "个人注册" + "登记表" still match.
    joined: list[Word] = []
    ordered = sorted(top, key=lambda w: (w.box[1], w.box[0]))
    for a, b in itertools.pairwise(ordered):
        same_row = abs((a.box[1] + a.box[3]) - (b.box[1] + b.box[3])) < (a.box[3] - a.box[1])
        if same_row and 0 <= b.box[0] - a.box[2] < 3 * (a.box[3] - a.box[1]):
            joined.append(
                Word(
                    text=a.text + b.text,
                    box=(a.box[0], min(a.box[1], b.box[1]), b.box[2], max(a.box[3], b.box[3])),
                    confidence=min(a.confidence, b.confidence),
                )
            )
    return top + joined


class TitleMatchClassifier(FormClassifier):
    kind: ClassVar[str] = "title_match"

    def __init__(self, candidates: list[TitleCandidate], version: str = "1") -> None:
        self._candidates = [(c, normalize_text(c.title)) for c in candidates if len(normalize_text(c.title)) >= 2]
        self._version = version

    @property
    def model_version(self) -> str:
        return f"{self.kind}-{self._version}"

    def form_scores(self, page: OcrPage) -> list[FormScore]:
        """Every form whose title or a variant matches some top line, best first."""
        best_by_form: dict[str, FormScore] = {}
        for word in _line_candidates(page):
            line = normalize_text(word.text)
            if len(line) < 2:
                continue
            for cand, title in self._candidates:
                if len(line) > len(title) + MAX_PREFIX_CHARS or len(line) < 0.6 * len(title):
                    continue
                if len(line) >= len(title):
                    # The title may carry a prefix: align it against the line's tail.
                    score = 100.0 if line.endswith(title) else fuzz.ratio(title, line[-len(title) :])
                else:
                    score = fuzz.ratio(title, line)
                # Longer titles are more specific: break near-ties in their favour.
                score = score + min(len(title), 20) * 0.01
                prev = best_by_form.get(cand.form_id)
                if prev is None or score > prev.score:
                    best_by_form[cand.form_id] = FormScore(cand.form_id, cand.role, score, word, title)
        return sorted(best_by_form.values(), key=lambda f: f.score, reverse=True)

    def best_match(self, page: OcrPage) -> TitleMatch | None:
        ranked = self.form_scores(page)
        if not ranked:
            return None
        top = ranked[0]
        # A shorter title contained in the winner's (参保登记表 in 个人参保登记表) matches whenever the
        # winner does; it is no rival and must not eat the margin.
        rivals = [r.score for r in ranked[1:] if r.title not in top.title]
        runner_up = rivals[0] if rivals else 0.0
        return TitleMatch(
            form_id=top.form_id,
            role=top.role,
            score=min(top.score, 100.0),
            margin=top.score - runner_up,
            word=top.word,
        )

    def classify(self, page: OcrPage) -> Classification:
        match = self.best_match(page)
        if match is None or match.score < MIN_SCORE:
            return Classification(label=None, confidence=0.0, model_version=self.model_version)
        # Score and margin to the nearest other form both speak for the label; the OCR confidence of
        # the title line bounds how much the text itself can be trusted.
        strength = (match.score - MIN_SCORE) / (100.0 - MIN_SCORE)
        separation = min(max(match.margin, 0.0) / 15.0, 1.0)
        confidence = (0.55 + 0.45 * strength) * (0.7 + 0.3 * separation) * (0.6 + 0.4 * match.word.confidence)
        return Classification(
            label=match.form_id, confidence=round(min(confidence, 1.0), 4), model_version=self.model_version
        )
