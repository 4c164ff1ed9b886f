"""Peak RSS of a page worker (and of the runner) as the batch grows: flat, or does something pile up?

    .venv/bin/python bench/worker_memory.py [--pages 50,500] [--workers 2] [--engine null|rapidocr]

For each size, writes that many cheap but real pages (one single-page JPEG each, an A4 form drawn at
150 DPI with its own number and text lines, so preprocessing upsamples every page to a full
300-DPI working page and none is a duplicate of another), then ingests them with the embedded
runner in a fresh process: every stage runs (load, preprocess, encode, recognise, catalogue,
assemble, PDF/A, index). That process reports its own peak RSS (the runner: plan, catalogue,
collecting results) and the largest peak RSS of its pool's workers (ru_maxrss of its reaped
children). The default engine is the null engine, so 500 pages take minutes, not an hour: it
measures everything the pipeline keeps per page, not RapidOCR's models, which are loaded once per
worker and do not grow with the batch (`--engine rapidocr` measures them too). Prints a table and
one JSON line with the ratio of the largest size to the smallest.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
_DPI = 150
_A4_PX = (1240, 1754)  # 210 x 297 mm at 150 DPI
_LINES = ["社会保险个人参保登记表", "姓名 张三  性别 男  民族 汉", "公民身份号码", "参保日期 2023年5月4日"]


def write_pages(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    font = ImageFont.truetype(_FONT, 36, index=2)
    for number in range(1, count + 1):
        page = Image.new("L", _A4_PX, 238)
        draw = ImageDraw.Draw(page)
        for row, text in enumerate(_LINES * 6):
            draw.text((120, 140 + row * 60), f"{text} {number:05d}-{row}", font=font, fill=20)
        page.save(folder / f"page-{number:05d}.jpg", quality=75, dpi=(_DPI, _DPI))


def _one(batch: Path, home: Path, workers: int, engine: str) -> dict[str, Any]:
    """Runs in a fresh process: ingest, then report this process's and its workers' peak RSS."""
    from pipeline.run import ingest_batch
    from pipeline.settings import OcrSettings, Settings

    started = time.perf_counter()
    summary = ingest_batch(
        batch, Settings(home=home, workers=workers, ocr=OcrSettings(engine=engine)), show_progress=False
    )
    return {
        "pages": summary.pages,
        "seconds": round(time.perf_counter() - started, 1),
        # Linux reports ru_maxrss in KiB; for children, the largest of the reaped ones.
        "runner_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "worker_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }


def run(sizes: list[int], workers: int, engine: str) -> dict[str, Any]:
    results: dict[str, Any] = {"workers": workers, "engine": engine, "sizes": {}}
    work = Path(tempfile.mkdtemp(prefix="dangan-memory-"))
    try:
        for size in sizes:
            batch = work / f"batch-{size}"
            write_pages(batch, size)
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(batch), str(work / f"home-{size}"), str(workers), engine],
                check=True,
                capture_output=True,
                text=True,
            )
            results["sizes"][size] = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    small, large = results["sizes"][min(sizes)], results["sizes"][max(sizes)]
    for key in ("worker_peak_rss_mb", "runner_peak_rss_mb"):
        results[f"{key}_ratio_{max(sizes)}_over_{min(sizes)}"] = round(large[key] / small[key], 3)
    return results


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--one":
        print(json.dumps(_one(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), sys.argv[5])))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=lambda s: [int(n) for n in s.split(",")], default=[50, 500])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engine", choices=["null", "rapidocr"], default="null")
    args = parser.parse_args()
    result = run(args.pages, args.workers, args.engine)
    print(f"{'pages':>6}{'seconds':>10}{'worker peak RSS MB':>20}{'runner peak RSS MB':>20}")
    for size, m in result["sizes"].items():
        print(f"{size:>6}{m['seconds']:>10}{m['worker_peak_rss_mb']:>20}{m['runner_peak_rss_mb']:>20}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
