"""How fast each synthetic family writes batches: documents and pages per minute.

    .venv/bin/python bench/synth_speed.py --docs 40 --seed 4711 [--family html] [--workers 2]

Prints one JSON line per family: wall-clock rates, and the CPU seconds the run and every process it
started (Chromium, workers) used, which a machine shared with other work does not distort. The html
family starts Chromium once per 48 sheets; measure on 40 documents or more.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from synth.families import FAMILIES, generate


def _cpu_seconds() -> float:
    """CPU time of this process and of every finished process it waited for (and theirs, recursively)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(family: str, docs: int, seed: int, workers: int | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="dangan-synth-speed-") as tmp:
        started, cpu = time.perf_counter(), _cpu_seconds()
        truth = generate(family, Path(tmp) / "batch", docs, seed, "mixed", workers=workers)
        seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    pages = sum(truth.files().values())
    return {
        "family": family,
        "docs": docs,
        "pages": pages,
        "seconds": round(seconds, 1),
        "docs_per_minute": round(docs / seconds * 60, 1),
        "pages_per_minute": round(pages / seconds * 60, 1),
        "cpu_seconds": round(cpu, 1),
        "docs_per_cpu_minute": round(docs / cpu * 60, 1),
        "workers": workers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=4711)
    parser.add_argument("--family", choices=FAMILIES, action="append", help="default: every family")
    parser.add_argument("--workers", type=int, default=None, help="default: one per core, at most 4")
    args = parser.parse_args()
    for family in args.family or FAMILIES:
        print(json.dumps(measure(family, args.docs, args.seed, args.workers)))


if __name__ == "__main__":
    main()
