"""Labelled first pages from stored benchmark batches, and the variants the classifiers must survive.

A stored batch is a `bench/accuracy.py --keep DIR` folder: DIR/batch/ground_truth.json and the OCR'd
pages in DIR/home/catalogue.sqlite. Each document's first page is a sample of its form; attachment
pages (ID-card copies, certificates) are samples of "no main form" (label None).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.ingest.discover import batch_id_for
from pipeline.store import open_store
from schemas.models import OcrPage, PageResult, Word
from synth import GroundTruth
from training.registry_pages import REGION_PREFIXES, _noisy

TITLE_REGION = 0.12  # generated forms print the title in the top ~8 % of the page


@dataclass(frozen=True)
class Sample:
    page: OcrPage
    label: str | None
    """registry form id, or None for a page that is no main form"""
    source: str
    """where it came from: "<batch>:<file>#<page>" plus a variant tag"""


def stored_samples(work: Path) -> list[Sample]:
    """First pages (labelled with their form) and attachment pages (None) of one stored batch."""
    batch_dir = work / "batch"
    truth = GroundTruth.model_validate_json((batch_dir / "ground_truth.json").read_text(encoding="utf-8"))
    store = open_store(f"sqlite:///{work}/home/catalogue.sqlite")
    try:
        pages: dict[tuple[str, int], PageResult] = {}
        for source in store.source_files(batch_id_for(batch_dir)):
            for result in store.pages(source.file_id):
                pages[(source.rel_path, result.page.page_no)] = result
    finally:
        store.close()
    samples = []
    for doc in truth.documents:
        for offset, page_truth in enumerate(doc.pages):
            found = pages.get((doc.source_file, doc.first_page + offset))
            if found is None or page_truth.kind == "blank":
                continue
            tag = f"{work.name}:{doc.source_file}#{doc.first_page + offset}"
            if offset == 0:
                samples.append(Sample(found.ocr, doc.form_id, tag))
            elif page_truth.kind == "attachment":
                samples.append(Sample(found.ocr, None, tag))
    return samples


def _title_word(page: OcrPage) -> int | None:
    """Index of the top-most word in the title region: the printed title on generated forms."""
    top = [(i, w) for i, w in enumerate(page.words) if w.box[1] < page.height * TITLE_REGION]
    if not top:
        return None
    return min(top, key=lambda iw: iw[1].box[1])[0]


def _with_title(page: OcrPage, text: str | None) -> OcrPage | None:
    i = _title_word(page)
    if i is None:
        return None
    words = list(page.words)
    if text is None:
        del words[i]
    else:
        words[i] = Word(text=text, box=words[i].box, confidence=words[i].confidence)
    return page.model_copy(update={"words": words})


def variants(samples: Sequence[Sample], fake_titles: Sequence[str], seed: int) -> list[Sample]:
    """Harder versions of labelled first pages: title lost (label kept), title damaged (label kept),
    title of an unregistered form over a known form's body (label None)."""
    rng = random.Random(f"{seed}/variants")
    out = []
    for s in samples:
        if s.label is None:
            continue
        page = _with_title(s.page, None)
        if page is not None:
            out.append(Sample(page, s.label, s.source + "/no-title"))
        i = _title_word(s.page)
        if i is not None:
            damaged = _with_title(s.page, _noisy(s.page.words[i].text, rng, 0.25))
            if damaged is not None:
                out.append(Sample(damaged, s.label, s.source + "/damaged-title"))
        fake = rng.choice(fake_titles)
        if rng.random() < 0.3:
            fake = rng.choice(REGION_PREFIXES) + fake
        unknown = _with_title(s.page, fake)
        if unknown is not None:
            out.append(Sample(unknown, None, s.source + "/unregistered-title"))
    return out
