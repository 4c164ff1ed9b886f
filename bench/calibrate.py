"""Train the field-confidence calibration and choose per-kind thresholds, then measure them held out.

    .venv/bin/python bench/calibrate.py            # the one command: re-train, write, measure

Training batches are `bench/accuracy.py --keep` folders given as SEED:DOCS@DIR; a folder that does
not exist yet is generated and OCR'd first (slow), so the command reproduces the calibration from
nothing. Fields are re-extracted from the stored pages with the current extractor, labelled right or
wrong against the ground truth, and a logistic calibrator is fitted (regularisation chosen by
document-grouped cross-validation). Thresholds come from the out-of-fold precision curve per field
kind. Writes schemas/decide/calibration.json and thresholds.yaml atomically, then prints, on the
held-out batch, a reliability table, the expected calibration error and precision/coverage per
kind at the chosen thresholds, and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from pipeline.calibration.artefacts import CALIBRATION_FILE, THRESHOLDS_FILE
from pipeline.calibration.model import Calibration, TrainingSource, save_calibration
from pipeline.calibration.thresholds import ALPHA, Thresholds, choose_thresholds, save_thresholds
from pipeline.settings import DecideSettings
from training.calibration_fit import fit_calibration
from training.calibration_samples import Sample, labelled_samples, reassemble_batch

TRAIN = (
    "1001:80@/tmp/train1001",
    *(f"{seed}:10@/tmp/cal{seed}" for seed in range(2101, 2107)),
    "3001:60@/tmp/cal3001",
    "4401:100@/tmp/cal4401",
)
HELDOUT = "90001:40@/tmp/acc40"
FIRST_RESERVED_SEED = 90100  # seeds from here on are kept for the final benchmark
BINS = 10


@dataclass(frozen=True)
class BatchSpec:
    seed: int
    docs: int
    work: Path

    @classmethod
    def parse(cls, text: str) -> BatchSpec:
        try:
            head, work = text.split("@", 1)
            seed, docs = head.split(":", 1)
            return cls(int(seed), int(docs), Path(work))
        except ValueError as e:
            raise SystemExit(f"{text!r}: expected SEED:DOCS@DIR, e.g. 1001:80@/tmp/train1001") from e


def _ensure(spec: BatchSpec, workers: int) -> None:
    if (spec.work / "batch" / "ground_truth.json").exists():
        return
    # bench/ is a folder of scripts, not a package: its sibling is found beside this file.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from accuracy import run

    print(f"generating and OCR'ing {spec.docs} documents (seed {spec.seed}) into {spec.work}", file=sys.stderr)
    run(spec.docs, spec.seed, workers, spec.work, "mixed")


def _samples(spec: BatchSpec) -> list[Sample]:
    # Calibration off: the fields are labelled with their raw evidence, whatever is installed now.
    batch = reassemble_batch(spec.work, DecideSettings(calibrated=False))
    if batch.truth.seed != spec.seed:
        raise SystemExit(f"{spec.work} holds seed {batch.truth.seed}, not {spec.seed}")
    return labelled_samples(batch)


def _extractor_note() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=False).stdout.strip()

    dirty = git("status", "--porcelain", "pipeline/extract")
    return f"git {git('rev-parse', '--short', 'HEAD')}" + (" + uncommitted pipeline/extract" if dirty else "")


def reliability(probs: Sequence[float], right: Sequence[bool], bins: int = BINS) -> list[dict[str, Any]]:
    rows = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = [(p, ok) for p, ok in zip(probs, right, strict=True) if lo <= p < hi or (b == bins - 1 and p == hi)]
        if sel:
            rows.append(
                {
                    "bin": f"{lo:.1f}-{hi:.1f}",
                    "n": len(sel),
                    "predicted": round(sum(p for p, _ in sel) / len(sel), 4),
                    "observed": round(sum(ok for _, ok in sel) / len(sel), 4),
                }
            )
    return rows


def expected_calibration_error(rows: list[dict[str, Any]]) -> float:
    n = sum(r["n"] for r in rows)
    return round(sum(r["n"] * abs(r["predicted"] - r["observed"]) for r in rows) / n, 4) if n else 0.0


def per_kind(samples: Sequence[Sample], probs: Sequence[float], th: Thresholds) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for kind in sorted({s.features.kind for s in samples}):
        idx = [i for i, s in enumerate(samples) if s.features.kind is kind]
        limit = th.for_kind(kind)
        accepted = [
            i
            for i in idx
            if probs[i] >= th.for_field(samples[i].features.key, kind) and samples[i].features.validator != "failed"
        ]
        right = sum(samples[i].right for i in accepted)
        out[kind.value] = {
            "threshold": limit,
            "fields": len(idx),
            "accepted": len(accepted),
            "precision": round(right / len(accepted), 4) if accepted else None,
            "coverage": round(len(accepted) / len(idx), 4),
            "wrong_accepted": len(accepted) - right,
        }
    return out


def train(
    specs: Sequence[BatchSpec], target: float, floor: float, alpha: float, min_support: int, out_dir: Path
) -> tuple[Calibration, Thresholds, dict[str, Any]]:
    samples: list[Sample] = []
    sources = []
    for spec in specs:
        got = _samples(spec)
        samples.extend(got)
        sources.append(
            TrainingSource(batch=str(spec.work), seed=spec.seed, fields=len(got), wrong=sum(not s.right for s in got))
        )
    cal, oof = fit_calibration(samples, sources, _extractor_note())
    cal = save_calibration(cal, out_dir / CALIBRATION_FILE.name)
    th = choose_thresholds(
        [s.features.kind for s in samples],
        oof,
        [s.right for s in samples],
        target=target,
        floor=floor,
        alpha=alpha,
        min_support=min_support,
        calibration_sha256=cal.sha256,
        keys=[s.features.key for s in samples],
    )
    save_thresholds(th, out_dir / THRESHOLDS_FILE.name)
    right = [s.right for s in samples]
    rows = reliability(oof, right)
    summary = {
        "fields": len(samples),
        "wrong": sum(not r for r in right),
        "regularization_c": cal.regularization_c,
        "out_of_fold_ece": expected_calibration_error(rows),
        "out_of_fold_per_kind": per_kind(samples, oof, th),
    }
    return cal, th, summary


def measure(spec: BatchSpec, cal: Calibration, th: Thresholds) -> dict[str, Any]:
    samples = _samples(spec)
    probs = [cal.probability(s.features) for s in samples]
    right = [s.right for s in samples]
    rows = reliability(probs, right)
    kinds = per_kind(samples, probs, th)
    accepted = sum(k["accepted"] for k in kinds.values())
    wrong = sum(k["wrong_accepted"] for k in kinds.values())
    return {
        "batch": str(spec.work),
        "seed": spec.seed,
        "fields": len(samples),
        "wrong": sum(not r for r in right),
        "reliability": rows,
        "ece": expected_calibration_error(rows),
        "accepted_fields": accepted,
        "accepted_precision": round((accepted - wrong) / accepted, 4) if accepted else None,
        "coverage": round(accepted / len(samples), 4) if samples else 0.0,
        "per_kind": kinds,
    }


def _print(result: dict[str, Any]) -> None:
    console = Console(stderr=True)
    held = result["heldout"]
    rel = Table(title=f"Reliability on held-out seed {held['seed']} ({held['fields']} fields)")
    for col in ("bin", "n", "predicted", "observed"):
        rel.add_column(col, justify="right")
    for row in held["reliability"]:
        rel.add_row(*(str(row[c]) for c in ("bin", "n", "predicted", "observed")))
    console.print(rel)
    kinds = Table(title=f"Per field kind at the chosen thresholds (target {result['target_precision']})")
    for col in ("kind", "threshold", "train n", "train prec", "train cov", "held n", "held prec", "held cov"):
        kinds.add_column(col, justify="right")
    train = result["training"]["out_of_fold_per_kind"]
    for kind, h in held["per_kind"].items():
        t = train.get(kind, {})
        kinds.add_row(
            kind,
            f"{h['threshold']:.4f}",
            str(t.get("fields", 0)),
            str(t.get("precision")),
            str(t.get("coverage")),
            str(h["fields"]),
            str(h["precision"]),
            str(h["coverage"]),
        )
    console.print(kinds)
    console.print(
        f"ECE held out {held['ece']} (out of fold on training {result['training']['out_of_fold_ece']}); "
        f"accepted-field precision held out {held['accepted_precision']} on {held['accepted_fields']} fields"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", nargs="+", default=list(TRAIN), help="SEED:DOCS@DIR, generated if missing")
    parser.add_argument("--heldout", default=HELDOUT, help="SEED:DOCS@DIR measured, never trained on")
    parser.add_argument("--target", type=float, default=0.995, help="accepted-field precision per kind")
    parser.add_argument("--floor", type=float, default=0.9, help="no threshold below this probability")
    parser.add_argument("--alpha", type=float, default=ALPHA, help="measured errors veto a threshold below this")
    parser.add_argument("--min-support", type=int, default=20, help="fewer fields of a kind: pooled threshold")
    parser.add_argument("--workers", type=int, default=2, help="OCR workers when a batch must be generated")
    parser.add_argument("--out-dir", type=Path, default=CALIBRATION_FILE.parent)
    args = parser.parse_args()
    specs = [BatchSpec.parse(t) for t in args.train]
    heldout = BatchSpec.parse(args.heldout)
    for spec in specs:
        if spec.seed >= FIRST_RESERVED_SEED or spec.seed == heldout.seed or spec.work == heldout.work:
            raise SystemExit(f"seed {spec.seed} ({spec.work}) is held out or reserved; train on seeds < 90000")
    for spec in (*specs, heldout):
        _ensure(spec, args.workers)
    cal, th, training = train(specs, args.target, args.floor, args.alpha, args.min_support, args.out_dir)
    result = {
        "calibration_sha256": cal.sha256,
        "target_precision": th.target_precision,
        "thresholds": {k.value: v.threshold for k, v in th.by_kind.items()},
        "key_thresholds": {k: v.threshold for k, v in th.by_key.items()},
        "training": training,
        "heldout": measure(heldout, cal, th),
    }
    _print(result)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
