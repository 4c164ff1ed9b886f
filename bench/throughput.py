"""Throughput: whole-pipeline time per page against the OCR engine's own time on the same pages.

    .venv/bin/python bench/throughput.py [--docs 6] [--seed 4711] [--no-scaling]

Generates a batch (seed below 90000), warms the engine up on one page, ingests the batch with one
worker while timing every stage in process, runs the engine alone (RapidOCR `recognize`, one
thread) on the very working images that run wrote, and ingests the batch again with two workers
into a fresh home. The machine is shared and noisy, so all of it runs back to back and the results
are printed as ratios: pipeline / engine (design bar <= 1.15) in wall-clock and in CPU time of this
process (the engine is single-threaded, so on a busy machine the CPU ratio is the one to trust; the
stage table is CPU seconds) and 1-worker / 2-worker time (ideal 2.0; wall-clock only, so it needs
two idle cores: the load average before and after is printed). Blank pages are not recognised by
the pipeline, so engine time counts the pages it reads. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2

import pipeline.pages
import pipeline.preprocess
import pipeline.steps
from pipeline.ingest.sources import load_page, probe_file
from pipeline.ocr.factory import get_engine
from pipeline.ocr.rapidocr_engine import RapidOcrEngine
from pipeline.run import ingest_batch
from pipeline.settings import Settings
from pipeline.store import open_store
from synth import generate_batch

Timings = dict[str, float]  # stage -> seconds; the CPU-time twin of a wall-clock one is keyed "cpu:<stage>"

# (module, attribute, stage name): what the one-worker run times, in the order of the table
_TIMED: list[tuple[Any, str, str]] = [
    (pipeline.steps, "plan_batch", "plan (discover, probe)"),
    (pipeline.pages, "load_page", "load page"),
    (pipeline.preprocess, "normalize_dpi", "preprocess: dpi"),
    (pipeline.preprocess, "is_blank", "preprocess: blank"),
    (RapidOcrEngine, "detect_orientation", "preprocess: orientation"),
    (pipeline.preprocess, "rotate", "preprocess: rotate"),
    (pipeline.preprocess, "estimate_skew", "preprocess: skew"),
    (pipeline.preprocess, "deskew", "preprocess: deskew"),
    (getattr(pipeline.pages, "cv2", None), "imwrite", "write working png"),
    (pipeline.pages, "grey_if_grey", "grey check"),
    (pipeline.pages, "encode_page", "encode page (JPEG / G4)"),
    (RapidOcrEngine, "recognize", "ocr (engine)"),
    (pipeline.steps.RecognisePages, "save", "catalogue: save page"),
    (pipeline.steps, "assemble_file", "assemble (separate, classify, extract, decide)"),
    (pipeline.steps, "number_records", "number records"),
    (pipeline.steps, "archive_document", "pdf/a"),
    (pipeline.steps, "index_batch", "index"),
    (pipeline.steps, "queue_reviews", "queue reviews"),
]


@contextmanager
def _timed_stages(timings: Timings) -> Iterator[None]:
    """Wrap each stage function so the in-process (one worker) run adds up its time per stage."""
    saved = []
    for owner, attr, name in _TIMED:
        real = getattr(owner, attr, None)
        if real is None:
            continue  # a stage this tree does not have (the bench also runs on older trees, for "before")
        saved.append((owner, attr, real))

        def wrapper(*args: Any, _real: Callable[..., Any] = real, _name: str = name, **kw: Any) -> Any:
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return _real(*args, **kw)
            finally:
                timings[_name] += time.perf_counter() - started
                timings[f"cpu:{_name}"] += time.process_time() - cpu

        setattr(owner, attr, wrapper)
    try:
        yield
    finally:
        for owner, attr, real in reversed(saved):
            setattr(owner, attr, real)


def _ingest(batch: Path, home: Path, workers: int) -> tuple[float, float, int, str]:
    """(seconds, CPU seconds of this process, pages recognised, batch id); pages count every page read,
    even of a file that a later stage quarantined."""
    settings = Settings(home=home, workers=workers)
    started, cpu = time.perf_counter(), time.process_time()
    summary = ingest_batch(batch, settings, show_progress=False)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    store = open_store(settings.database_url)
    try:
        pages = sum(len(store.pages(f.file_id)) for f in store.source_files(summary.batch_id))
    finally:
        store.close()
    return seconds, cpu, pages, summary.batch_id


def _engine_alone(home: Path, batch_id: str) -> tuple[float, float, int]:
    """Seconds and CPU seconds RapidOCR alone spends on the working images the pipeline recognised, and
    their count."""
    store = open_store(Settings(home=home).database_url)
    try:
        pages = [p for f in store.source_files(batch_id) for p in store.pages(f.file_id)]
    finally:
        store.close()
    engine = get_engine()
    total = cpu = 0.0
    read = 0
    for page in pages:
        if page.preprocess.is_blank:
            continue
        image = cv2.imread(page.page.image_path, cv2.IMREAD_UNCHANGED)
        if image is None:
            raise OSError(f"cannot read working image {page.page.image_path}")
        started, cpu_started = time.perf_counter(), time.process_time()
        engine.recognize(image)
        total += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        read += 1
    return total, cpu, read


def _warm_up(batch: Path) -> None:
    """Load the models and run one page: onnxruntime's first inferences are several times slower,
    and that start-up belongs to neither side of the ratio."""
    first = sorted(
        p for p in batch.rglob("*") if p.suffix.lower() in {".pdf", ".jpg", ".jpeg", ".png", ".tif", ".tiff"}
    )[0]
    kind, _count = probe_file(first)
    image, _dpi = load_page(first, kind, 1)
    engine = get_engine()
    for _ in range(2):
        engine.recognize(image)


def run(docs: int, seed: int, scaling: bool) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="dangan-throughput-"))
    try:
        batch = work / "batch"
        generate_batch(batch, docs, seed)
        _warm_up(batch)
        timings: Timings = defaultdict(float)
        load_before = os.getloadavg()[0]
        with _timed_stages(timings):
            one_worker, one_cpu, pages, batch_id = _ingest(batch, work / "home1", 1)
        engine_seconds, engine_cpu, recognised = _engine_alone(work / "home1", batch_id)
        if scaling:
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            two_workers, two_parent_cpu, _p, _b = _ingest(batch, work / "home2", 2)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the pool's workers, reaped at its end
            two_workers_cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
        load_after = os.getloadavg()[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    names = [name for _o, _a, name in _TIMED]
    stages = {name: round(timings[f"cpu:{name}"] / pages, 4) for name in names}
    # no timed stage runs inside another
    stages["other (untimed)"] = round((one_cpu - sum(timings[f"cpu:{n}"] for n in names)) / pages, 4)
    result: dict[str, Any] = {
        "docs": docs,
        "seed": seed,
        "pages": pages,
        "pages_recognised": recognised,
        "load_average_before_after": [round(load_before, 1), round(load_after, 1)],
        "engine_seconds_per_page": round(engine_seconds / pages, 3),
        "pipeline_seconds_per_page": round(one_worker / pages, 3),
        "pipeline_over_engine": round(one_worker / engine_seconds, 3),
        "pipeline_over_engine_cpu": round(one_cpu / engine_cpu, 3),
        "pipeline_over_its_own_engine_time": round(one_worker / timings["ocr (engine)"], 3),
        "pipeline_over_its_own_engine_cpu": round(one_cpu / timings["cpu:ocr (engine)"], 3),
        "cpu_seconds_per_page_by_stage": stages,
    }
    if scaling:
        result["two_worker_seconds_per_page"] = round(two_workers / pages, 3)
        result["speedup_2_workers"] = round(one_worker / two_workers, 3)
        # What two idle cores would give, from CPU time: the runner's work counted as serial (pessimistic)
        # or as spread over both cores (optimistic); worker start-up (models) is in the workers' CPU.
        result["two_worker_cpu_seconds_per_page"] = round((two_parent_cpu + two_workers_cpu) / pages, 3)
        result["speedup_2_workers_cpu_model"] = [
            round(one_cpu / (two_parent_cpu + two_workers_cpu / 2), 3),
            round(one_cpu / ((two_parent_cpu + two_workers_cpu) / 2), 3),
        ]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=4711, help="generator seed, below 90000")
    parser.add_argument("--no-scaling", action="store_true", help="skip the two-worker run")
    args = parser.parse_args()
    if args.seed >= 90000:
        parser.error("seeds from 90000 up are reserved for held-out measurements")
    result = run(args.docs, args.seed, not args.no_scaling)
    print(f"{'measure':<50}{'value':>12}")
    for key, value in result.items():
        if key == "cpu_seconds_per_page_by_stage":
            for stage, seconds in value.items():
                print(f"{'  CPU s/page ' + stage:<50}{seconds:>12}")
        else:
            print(f"{key:<50}{value!s:>12}")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
