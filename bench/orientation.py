"""Orientation and skew on generated scans with ground truth: accuracy, OSD calls, seconds per page.

    .venv/bin/python bench/orientation.py /tmp/acc40 /tmp/train1001 [--turns] [--osd]

Each argument is a folder with batch/ (and its ground_truth.json), as kept by `bench/accuracy.py --keep`,
or a folder made by `--generate`. Every non-blank page is read from its original scan, brought to 300 DPI
and given to `detect_rotation` with the engines' models (pipeline/ocr/upright.py); with --turns it is also
turned by 90, 180 and 270 degrees first (4 cases a page).
"Before" is Tesseract OSD alone (`--method osd`), or what a stored run decided when the folder holds
home/ with its catalogue (each page's PreprocessInfo). Skew residual is |estimated + truth| in
degrees, estimated on the page as this run turned it upright (pages turned wrong are left out):
the truth's skew_deg is positive clockwise, `estimate_skew` positive counter-clockwise, so a
perfect estimate is the negated truth. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.ingest.discover import batch_id_for
from pipeline.ingest.sources import load_page, probe_file
from pipeline.ocr.tesseract_engine import osd_rotation
from pipeline.ocr.upright import classify_lines
from pipeline.preprocess import effective_dpi, estimate_skew, normalize_dpi, rotate
from pipeline.preprocess.orientation import UprightMethod, detect_rotation
from pipeline.settings import Settings
from pipeline.store import open_store
from synth import GroundTruth, generate_batch


def _counted_osd(calls: list[int]) -> Callable[[np.ndarray], int | None]:
    def counted(img: np.ndarray) -> int | None:
        calls[0] += 1
        return osd_rotation(img)

    return counted


def _stored_rotations(work: Path) -> dict[tuple[str, int], int]:
    """(file, page) → the rotation a stored run chose, when the folder holds its catalogue."""
    home = work / "home"
    if not (home / "catalogue.sqlite").exists():
        return {}
    store = open_store(Settings(home=home).database_url)
    try:
        return {
            (f.rel_path, p.page.page_no): p.preprocess.rotation
            for f in store.source_files(batch_id_for(work / "batch"))
            for p in store.pages(f.file_id)
        }
    finally:
        store.close()


def run(folders: list[Path], turns: bool, method: UprightMethod) -> dict[str, Any]:
    calls = [0]
    osd = _counted_osd(calls)
    cases = right = before_right = before_pages = pages = 0
    seconds: list[float] = []
    residual: list[float] = []
    wrong: list[str] = []
    for work in folders:
        truth = GroundTruth.model_validate_json((work / "batch" / "ground_truth.json").read_text("utf-8"))
        stored = _stored_rotations(work)
        for doc in truth.documents:
            kind, _count = probe_file(work / "batch" / doc.source_file)
            for offset, page_truth in enumerate(doc.pages):
                key = (doc.source_file, doc.first_page + offset)
                if page_truth.kind == "blank":
                    continue
                pages += 1
                upright_turn = (360 - page_truth.rotation) % 360
                if key in stored:
                    before_pages += 1
                    before_right += stored[key] == upright_turn
                image, tagged = load_page(work / "batch" / doc.source_file, kind, key[1])
                page, _ = normalize_dpi(image, effective_dpi(image.shape[1], image.shape[0], tagged))
                for extra in (0, 90, 180, 270) if turns else (0,):
                    case = rotate(page, extra) if extra else page
                    expected = (upright_turn - extra) % 360
                    started = time.perf_counter()
                    found = detect_rotation(case, classify_lines, osd, method)
                    seconds.append(time.perf_counter() - started)
                    cases += 1
                    right += found == expected
                    if found != expected:
                        wrong.append(f"{key[0]}#{key[1]} +{extra}: expected {expected}, got {found}")
                    elif extra == 0:
                        residual.append(abs(estimate_skew(rotate(case, found)) + page_truth.skew_deg))
    return {
        "method": method,
        "pages": pages,
        "cases": cases,
        "accuracy": round(right / cases, 4),
        "osd_calls_per_case": round(calls[0] / cases, 4),
        "seconds_per_case": round(float(np.mean(seconds)), 4),
        "stored_run_pages": before_pages,
        "stored_run_accuracy": round(before_right / before_pages, 4) if before_pages else None,
        "skew_residual_median_deg": round(float(np.median(residual)), 3),
        "skew_residual_p99_deg": round(float(np.percentile(residual, 99)), 3),
        "skew_residual_max_deg": round(float(np.max(residual)), 3),
        "wrong": wrong[:20],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--turns", action="store_true", help="also test each page turned 90/180/270")
    parser.add_argument("--method", default="lines", choices=["lines", "osd"])
    parser.add_argument("--generate", type=int, default=0, help="first generate this many documents into FOLDER/batch")
    parser.add_argument("--seed", type=int, default=4242, help="generator seed for --generate (below 90000)")
    args = parser.parse_args()
    if args.generate:
        if args.seed >= 90000:
            parser.error("seeds from 90000 up are reserved for held-out measurements")
        generate_batch(args.folders[0] / "batch", args.generate, args.seed)
    result = run(args.folders, args.turns, args.method)
    for key, value in result.items():
        if key != "wrong":
            print(f"{key:<32}{value!s:>12}")
    for line in result["wrong"]:
        print(f"{'wrong':<32}{line}")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
