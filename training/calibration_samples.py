"""Labelled fields from a stored benchmark batch: each extracted field, its features, right or wrong.

A batch is a `bench/accuracy.py --keep` folder: the generated scans with their ground truth and
the OCR'd pages in the catalogue. Separation, classification, extraction and decision are re-run
on the stored pages (no OCR), so the fields come from the extractor as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.assemble import assemble_file
from pipeline.calibration.features import FieldFeatures, document_features
from pipeline.context import RunContext
from pipeline.ingest.discover import batch_id_for
from pipeline.settings import DecideSettings, Settings
from pipeline.store import open_store
from schemas.models import Document, FileStatus
from schemas.registry import get_registry
from synth import GroundTruth


@dataclass(frozen=True)
class Sample:
    doc_key: str  # seed:file:first page, folds never split a document
    field_key: str
    required: bool
    features: FieldFeatures
    right: bool


@dataclass(frozen=True)
class StoredBatch:
    work: Path
    truth: GroundTruth
    documents: list[Document]


def same_value(got: str | None, want: str | None) -> bool:
    """The benchmark's notion of a right value (bench/accuracy.py compares the same way)."""
    return want is not None and (got or "").strip().upper() == want.strip().upper()


def reassemble_batch(work: Path, decide: DecideSettings | None = None) -> StoredBatch:
    """Separation, classification, extraction and decision again over the pages a kept run stored
    (`bench/accuracy.py --keep`), with `decide` (default: the settings' own); no recognition."""
    batch_dir = work / "batch"
    truth = GroundTruth.model_validate_json((batch_dir / "ground_truth.json").read_text(encoding="utf-8"))
    settings = Settings(home=work / "home") if decide is None else Settings(home=work / "home", decide=decide)
    store = open_store(settings.database_url)
    try:
        batch_id = batch_id_for(batch_dir)
        ctx = RunContext.create(settings, batch_id, batch_dir)
        docs: list[Document] = []
        for source in store.source_files(batch_id):
            if source.status is FileStatus.DONE:
                docs.extend(assemble_file(ctx, source, store.pages(source.file_id)))
    finally:
        store.close()
    return StoredBatch(work=work, truth=truth, documents=docs)


def labelled_samples(batch: StoredBatch) -> list[Sample]:
    """Every found field of every document whose pages match a true document."""
    registry = get_registry()
    expected = {(t.source_file, t.first_page): t for t in batch.truth.documents}
    samples: list[Sample] = []
    for doc in batch.documents:
        t = expected.get((doc.rel_path, doc.first_page))
        if t is None or t.last_page != doc.last_page:
            continue
        label = doc.classification.label if doc.classification else None
        form = registry.form(label) if label else None
        required = {f.key for f in form.fields if f.required} if form else set()
        for field, features in zip(doc.fields, document_features(doc, form), strict=True):
            if features is None:
                continue
            samples.append(
                Sample(
                    doc_key=f"{batch.truth.seed}:{doc.rel_path}:{doc.first_page}",
                    field_key=field.key,
                    required=field.key in required,
                    features=features,
                    right=same_value(field.normalized or field.value, t.fields.get(field.key)),
                )
            )
    return samples
