"""Form-type classification on held-out stored batches: title only, n-gram only, ensemble.

    .venv/bin/python bench/classify.py --batch /tmp/acc40 [--artefact classifiers/artifacts/form_ngram.npz]

Samples: each document's first page (its form), attachment pages (no main form → None), and harder
variants of the first pages (title lost or damaged: label kept; title of an unregistered form: None,
built from word parts the training never used). Optionally pages synthesised from the registry for
all main forms (--synth N per form), reported apart since they come from the training generator.

Prints accuracy per system and sample group, the ensemble's reliability table (the probability
that its answer is right, binned, against the observed share right), ECE, confident wrong answers and the confusion
pairs, then one JSON line.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from classifiers.factory import DEFAULT_ARTEFACT, load_ensemble
from pipeline.decide import DEFAULT_FORM_THRESHOLD
from schemas.models import Classification
from schemas.registry import get_registry
from training.form_samples import Sample, stored_samples, variants
from training.registry_pages import FAKE_CORES_EVAL, fake_titles, main_form_pages

BINS = (0.0, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0001)


def _group(sample: Sample) -> str:
    if sample.source.startswith("synth"):
        return "registry-synth"
    if "/" in sample.source.rsplit("#", 1)[-1]:
        return sample.source.rsplit("/", 1)[-1]
    return "first-page" if sample.label is not None else "attachment"


def reliability(pairs: Sequence[tuple[float, bool]]) -> tuple[list[dict[str, Any]], float]:
    """Per confidence bin: count, mean confidence, observed accuracy; and the expected calibration error."""
    rows, ece = [], 0.0
    for lo, hi in itertools.pairwise(BINS):
        inside = [(p, ok) for p, ok in pairs if lo <= p < hi]
        if not inside:
            continue
        conf = sum(p for p, _ in inside) / len(inside)
        acc = sum(ok for _, ok in inside) / len(inside)
        ece += len(inside) / len(pairs) * abs(conf - acc)
        rows.append({"bin": f"[{lo:.2f},{min(hi, 1.0):.2f})", "n": len(inside), "confidence": conf, "accuracy": acc})
    return rows, ece


def score(
    name: str, classify: Callable[[Sample], Classification], samples: Sequence[Sample], threshold: float
) -> dict[str, Any]:
    by_group: dict[str, list[bool]] = {}
    confusions: Counter[str] = Counter()
    confident_wrong = 0
    abstained_known = 0
    for s in samples:
        cls = classify(s)
        ok = cls.label == s.label
        by_group.setdefault(_group(s), []).append(ok)
        if not ok:
            confusions[f"{s.label} -> {cls.label}"] += 1
            if cls.label is not None and cls.confidence >= threshold:
                confident_wrong += 1
            if cls.label is None:
                abstained_known += 1
    return {
        "system": name,
        "accuracy": {g: sum(v) / len(v) for g, v in sorted(by_group.items())},
        "n": {g: len(v) for g, v in sorted(by_group.items())},
        "confident_wrong": confident_wrong,
        "abstained_on_known": abstained_known,
        "confusions": confusions.most_common(8),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=Path, action="append", default=None, help="held-out stored batch")
    parser.add_argument("--artefact", type=Path, default=DEFAULT_ARTEFACT)
    parser.add_argument("--synth", type=int, default=0, help="registry-synthesised pages per main form")
    parser.add_argument("--seed", type=int, default=8001, help="for the variants and synthesised pages")
    args = parser.parse_args()
    registry = get_registry()
    ensemble = load_ensemble(registry, args.artefact)
    samples: list[Sample] = []
    for work in args.batch or [Path("/tmp/acc40")]:
        samples.extend(stored_samples(work))
    samples += variants(samples, fake_titles(registry, FAKE_CORES_EVAL), args.seed)
    if args.synth:
        samples += [Sample(p, f, "synth") for p, f in main_form_pages(registry, args.synth, args.seed)]
    threshold = DEFAULT_FORM_THRESHOLD
    results = [
        score("title", lambda s: ensemble.title.classify(s.page), samples, threshold),
        score("ngram", lambda s: ensemble.ngram.classify(s.page), samples, threshold),
        score("ensemble", lambda s: ensemble.classify(s.page), samples, threshold),
    ]
    # Calibration of the ensemble's answers. Labelled answers are what a threshold accepts: each is
    # right with its confidence. An unknown (None, confidence = its best registry guess) is counted in
    # the second measure as right with 1 − that confidence.
    labelled, answers = [], []
    for s in samples:
        cls = ensemble.classify(s.page)
        ok = cls.label == s.label
        if cls.label is not None:
            labelled.append((cls.confidence, ok))
            answers.append((cls.confidence, ok))
        else:
            answers.append((1.0 - cls.confidence, ok))
    rel_rows, ece = reliability(labelled)
    _, ece_all = reliability(answers)
    console = Console()
    groups = list(results[0]["n"])
    table = Table(title=f"Form-type accuracy on {len(samples)} held-out samples ({ensemble.model_version})")
    table.add_column("system")
    for g in groups:
        table.add_column(f"{g} (n={results[0]['n'][g]})", justify="right")
    table.add_column(f"wrong ≥{threshold}", justify="right")
    table.add_column("abstained", justify="right")
    for r in results:
        table.add_row(
            r["system"],
            *(f"{r['accuracy'][g]:.3f}" for g in groups),
            str(r["confident_wrong"]),
            str(r["abstained_on_known"]),
        )
    console.print(table)
    rel = Table(title=f"Ensemble reliability of labelled answers (ECE {ece:.3f}; all answers {ece_all:.3f})")
    for col in ("confidence bin", "n", "mean confidence", "observed accuracy"):
        rel.add_column(col, justify="right")
    for row in rel_rows:
        rel.add_row(row["bin"], str(row["n"]), f"{row['confidence']:.3f}", f"{row['accuracy']:.3f}")
    console.print(rel)
    for r in results:
        if r["confusions"]:
            console.print(f"{r['system']} confusions: " + "; ".join(f"{k} ×{v}" for k, v in r["confusions"]))
    print(
        json.dumps(
            {
                "samples": len(samples),
                "systems": results,
                "reliability": rel_rows,
                "ece": ece,
                "ece_all_answers": ece_all,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
