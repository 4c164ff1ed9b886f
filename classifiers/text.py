"""What the text classifier sees of a page: its normalised text, top region apart, as character n-grams."""

from __future__ import annotations

import re

from pipeline.text import normalize_text
from schemas.models import OcrPage, Word

_DIGITS = re.compile(r"[0-9]+")
_LATIN = re.compile(r"[A-Z]+")
# Titles sit in the top part of a form; their n-grams are marked so the model can weigh them apart
# from the same characters in the body (变更 in a title says more than 变更 in a value).
TOP_REGION = 0.28
NGRAM_MIN, NGRAM_MAX = 1, 3


def page_text(page: OcrPage) -> tuple[str, str]:
    """(top-region text, whole-page text) in reading order, normalised; digit and letter runs become
    one placeholder each, since values (IDs, dates, amounts) say nothing about the form type."""
    limit = page.height * TOP_REGION
    ordered = sorted(page.words, key=lambda w: (w.box[1] // 40, w.box[0]))

    def clean(words: list[Word]) -> str:
        text = normalize_text("".join(w.text for w in words))
        return _LATIN.sub("A", _DIGITS.sub("0", text))

    return clean([w for w in ordered if w.box[1] < limit]), clean(ordered)


def char_ngrams(text: str, prefix: str = "") -> list[str]:
    return [prefix + text[i : i + n] for n in range(NGRAM_MIN, NGRAM_MAX + 1) for i in range(len(text) - n + 1)]


def page_ngrams(page: OcrPage) -> list[str]:
    """The n-gram terms the text classifier sees: top-region grams marked with "^", body grams bare."""
    top, full = page_text(page)
    return char_ngrams(top, "^") + char_ngrams(full)
