"""Accuracy benchmark: generate a batch with unseen seeds, ingest it, compare with the ground truth.

    .venv/bin/python bench/accuracy.py --docs 40 --seed 90001 [--family html] [--workers 2] [--keep DIR]

Prints a table and one JSON line: document separation F1, form-type accuracy, per-field accuracy,
accepted-field precision, straight-through rate, documents accepted with an error, the confusion
pairs and pages/minute. Seeds below 90000 are the ones used while developing. `--family` picks the
synthetic generator family (pillow, the first; html, written independently and printed by Chromium).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from pipeline.run import ingest_batch
from pipeline.settings import Settings
from pipeline.store import open_store
from schemas.models import Document, DocumentStatus, FieldStatus
from synth import GroundTruth
from synth.families import DEFAULT_FAMILY, FAMILIES, generate
from training.calibration_samples import reassemble_batch


def _norm(value: str | None) -> str:
    return (value or "").strip().upper()


def _row_scores(truth: GroundTruth, predicted: dict[tuple[str, int], Document]) -> dict[str, Any]:
    """Person-table rows: true row i against predicted row i of the same document, cell by cell."""
    cells = cells_right = accepted = accepted_right = rows = rows_exact = extra = 0
    for t in truth.documents:
        d = predicted.get((t.source_file, t.first_page))
        got = d.table_rows if d is not None else []
        extra += max(0, len(got) - len(t.rows))
        for i, true_row in enumerate(t.rows):
            fields = {f.key: f for f in got[i]} if i < len(got) else {}
            exact = True
            for key, value in true_row.items():
                f = fields.get(key)
                ok = f is not None and _norm(f.normalized or f.value) == _norm(value)
                cells += 1
                cells_right += ok
                exact = exact and ok
                if f is not None and f.status is FieldStatus.ACCEPTED:
                    accepted += 1
                    accepted_right += ok
            rows += 1
            rows_exact += exact
    return {
        "table_rows": rows,
        "row_cell_accuracy": round(cells_right / cells, 4) if cells else None,
        "row_exact_rate": round(rows_exact / rows, 4) if rows else None,
        "row_accepted_precision": round(accepted_right / accepted, 4) if accepted else None,
        "row_accepted_cells": accepted,
        "rows_extra": extra,
    }


def evaluate(truth: GroundTruth, docs: list[Document]) -> dict[str, Any]:
    predicted = {(d.rel_path, d.first_page): d for d in docs}
    expected = {(t.source_file, t.first_page): t for t in truth.documents}
    # A predicted document is right when the same file and page range form one true document.
    exact = {key for key, d in predicted.items() if key in expected and expected[key].last_page == d.last_page}
    precision = len(exact) / len(predicted) if predicted else 0.0
    recall = len(exact) / len(expected) if expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    form_right = 0
    confusions: Counter[tuple[str, str]] = Counter()
    field_total: Counter[str] = Counter()
    field_right: Counter[str] = Counter()
    accepted_total = accepted_right = 0
    straight_through = accepted_with_error = 0
    errors: Counter[str] = Counter()
    # what sends documents to review: a reason names its field ("unit_name: …") or the form type
    review_causes: Counter[str] = Counter()
    for key, t in expected.items():
        d = predicted.get(key)
        label = d.classification.label if d and d.classification else None
        if label == t.form_id:
            form_right += 1
        else:
            confusions[(t.form_title, d.form_title if d and d.form_title else "(none)")] += 1
        if d is None:
            continue
        got = {f.key: f for f in d.fields}
        doc_has_error = label != t.form_id
        for fkey, value in t.fields.items():
            field_total[fkey] += 1
            f = got.get(fkey)
            ok = f is not None and _norm(f.normalized or f.value) == _norm(value)
            field_right[fkey] += ok
            if f is not None and f.status is FieldStatus.ACCEPTED:
                accepted_total += 1
                accepted_right += ok
                if not ok:
                    doc_has_error = True
                    errors[f"accepted wrong {fkey}"] += 1
            elif not ok:
                errors[f"missed {fkey}"] += 1
        if d.status is DocumentStatus.REVIEW:
            review_causes.update({r.split(":", 1)[0] for r in d.review_reasons})
        if d.status is DocumentStatus.ACCEPTED:
            if doc_has_error:
                accepted_with_error += 1
            else:
                straight_through += 1
    n = len(expected)
    return {
        "documents": n,
        "separation_f1": round(f1, 4),
        "form_accuracy": round(form_right / n, 4) if n else 0.0,
        "field_accuracy": {k: round(field_right[k] / field_total[k], 4) for k in sorted(field_total)},
        "accepted_field_precision": round(accepted_right / accepted_total, 4) if accepted_total else 0.0,
        "accepted_fields": accepted_total,
        "straight_through_rate": round(straight_through / n, 4) if n else 0.0,
        "accepted_with_error": accepted_with_error,
        "confusions": [f"{a} -> {b}: {c}" for (a, b), c in confusions.most_common(10)],
        "top_errors": [f"{k}: {c}" for k, c in errors.most_common(5)],
        "review_causes": [f"{k}: {c}" for k, c in review_causes.most_common(6)],
        **_row_scores(truth, predicted),
    }


def run(
    docs: int, seed: int, workers: int, keep: Path | None, profile: str, family: str = DEFAULT_FAMILY
) -> dict[str, Any]:
    work = keep or Path(tempfile.mkdtemp(prefix="dangan-accuracy-"))
    batch_dir, home = work / "batch", work / "home"
    shutil.rmtree(batch_dir, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    truth = generate(family, batch_dir, docs, seed, profile)
    settings = Settings(home=home, workers=workers)
    started = time.perf_counter()
    summary = ingest_batch(batch_dir, settings, show_progress=sys.stderr.isatty())
    elapsed = time.perf_counter() - started
    store = open_store(settings.database_url)
    try:
        result = evaluate(truth, store.documents(summary.batch_id))
    finally:
        store.close()
    result.update(
        seed=seed,
        family=family,
        profile=profile,
        workers=workers,
        pages=summary.pages,
        seconds=round(elapsed, 1),
        pages_per_minute=round(summary.pages / elapsed * 60, 2),
    )
    if keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return result


def reassemble(work: Path) -> dict[str, Any]:
    """Re-run separation, classification, extraction and decision on the pages an earlier run stored.

    No recognition: iterating on the later stages costs seconds instead of minutes.
    """
    stored = reassemble_batch(work)
    result = evaluate(stored.truth, stored.documents)
    result.update(seed=stored.truth.seed, reassembled=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=90001)
    parser.add_argument("--workers", type=int, default=0, help="0 = one per core")
    parser.add_argument("--profile", default="mixed", choices=["box", "counter", "mixed"])
    parser.add_argument("--family", default=DEFAULT_FAMILY, choices=FAMILIES, help="synthetic generator family")
    parser.add_argument("--keep", type=Path, default=None, help="keep batch and data here")
    parser.add_argument(
        "--reassemble", type=Path, default=None, help="a --keep folder of an earlier run: re-decide without OCR"
    )
    args = parser.parse_args()
    if args.reassemble:
        result = reassemble(args.reassemble)
    else:
        result = run(args.docs, args.seed, args.workers, args.keep, args.profile, args.family)
    family = result.get("family", "as generated")
    table = Table(title=f"Accuracy on {result['documents']} synthetic documents (family {family}, seed {args.seed})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key in (
        "documents",
        "separation_f1",
        "form_accuracy",
        "accepted_field_precision",
        "accepted_fields",
        "straight_through_rate",
        "accepted_with_error",
        "table_rows",
        "row_cell_accuracy",
        "row_exact_rate",
        "row_accepted_precision",
        "rows_extra",
        "pages",
        "seconds",
        "pages_per_minute",
    ):
        if key in result:
            table.add_row(key, str(result[key]))
    for key, acc in result["field_accuracy"].items():
        table.add_row(f"field {key}", str(acc))
    for line in result["confusions"]:
        table.add_row("confusion", line)
    for line in result["top_errors"]:
        table.add_row("error", line)
    for line in result["review_causes"]:
        table.add_row("sent to review by", line)
    Console(stderr=True).print(table)
    print(json.dumps(result, ensure_ascii=False, default=dict))


if __name__ == "__main__":
    main()
