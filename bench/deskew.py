"""Bench of page preprocessing on rendered forms: skew residual, orientation accuracy, time per step.

    .venv/bin/python bench/deskew.py [--pages 24] [--dpi 200] [--seed 7]

Each page is a synthetic A4 form (Noto Sans/Serif CJK or AR PL UKai, ruled table, red seal, scanner
noise) rendered at --dpi, skewed by 0.5..3 degrees either way and turned by a random quarter turn.
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from statistics import median

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import pagegen

from pipeline.ocr.upright import upright_turn
from pipeline.preprocess import (
    deskew,
    effective_dpi,
    estimate_skew,
    is_blank,
    normalize_dpi,
    rotate,
    text_is_horizontal,
)


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run(pages: int, dpi: float, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    times: dict[str, list[float]] = {k: [] for k in ("dpi", "direction", "lines", "osd", "skew", "deskew", "blank")}
    residual: list[float] = []
    correct = {"direction": 0, "lines (pipeline default)": 0, "osd_alone": 0}
    blank_wrong = 0
    for i in range(pages):
        upright = pagegen.scanner_noise(pagegen.render_form(dpi=dpi, seed=seed * 1000 + i), seed=i)
        angle = rng.choice((-1, 1)) * rng.uniform(0.5, 3.0)
        turn = rng.choice((0, 90, 180, 270))
        page = rotate(pagegen.skew(upright, angle), turn)
        truth = (360 - turn) % 360

        t = time.perf_counter()
        work, _ = normalize_dpi(page, effective_dpi(page.shape[1], page.shape[0], 72.0))
        times["dpi"].append(time.perf_counter() - t)

        t = time.perf_counter()
        horizontal = text_is_horizontal(work)
        times["direction"].append(time.perf_counter() - t)
        base = 90 if horizontal is False else 0
        correct["direction"] += int((base in (0, 180)) == (truth in (0, 180)) if horizontal is not None else 0)

        t = time.perf_counter()
        correct["lines (pipeline default)"] += int(upright_turn(work, "lines") == truth)
        times["lines"].append(time.perf_counter() - t)

        t = time.perf_counter()
        correct["osd_alone"] += int(upright_turn(work, "osd") == truth)
        times["osd"].append(time.perf_counter() - t)

        fixed = rotate(work, truth)  # skew is measured on the truly upright page, apart from orientation errors
        t = time.perf_counter()
        found = estimate_skew(fixed)
        times["skew"].append(time.perf_counter() - t)
        t = time.perf_counter()
        deskew(fixed, found)
        times["deskew"].append(time.perf_counter() - t)
        residual.append(abs(angle - found))

        t = time.perf_counter()
        blank_wrong += int(is_blank(fixed))
        times["blank"].append(time.perf_counter() - t)
        print(f"page {i + 1:3d}/{pages}: turn {turn:3d} skew {angle:+.2f} found {found:+.2f}", file=sys.stderr)

    return {
        "pages": pages,
        "render_dpi": dpi,
        "skew_residual_median_deg": round(median(residual), 3),
        "skew_residual_p99_deg": round(_p(residual, 99), 3),
        "skew_residual_max_deg": round(max(residual), 3),
        "orientation_accuracy": {k: round(v / pages, 4) for k, v in correct.items()},
        "text_pages_called_blank": blank_wrong,
        "seconds_per_page": {k: round(sum(v) / len(v), 4) for k, v in times.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=24)
    parser.add_argument("--dpi", type=float, default=200.0, help="render resolution; pages are brought to 300")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = run(args.pages, args.dpi, args.seed)
    print(f"{'measure':<40}{'value':>12}")
    for key in ("pages", "skew_residual_median_deg", "skew_residual_p99_deg", "skew_residual_max_deg"):
        print(f"{key:<40}{result[key]!s:>12}")
    for key, value in result["orientation_accuracy"].items():  # type: ignore[attr-defined]
        print(f"{'orientation accuracy ' + key:<40}{value:>12.2%}")
    print(f"{'text pages called blank':<40}{result['text_pages_called_blank']!s:>12}")
    for key, value in result["seconds_per_page"].items():  # type: ignore[attr-defined]
        print(f"{'seconds/page ' + key:<40}{value:>12.4f}")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
