"""Archive bytes per page by colour mode, against the scans, and the legibility of the archived pages.

    .venv/bin/python bench/archive_size.py --docs 20 --seed 90011 [--qualities 45,60] [--no-reread]
        [--ocrmypdf PATH [--ocrmypdf-args "..."]]

Generates a batch and ingests it once (real engine, pages kept lossless: the old archive, "before").
Then the production writer writes the archive again from those pages with the settings' encoding
(or each JPEG quality of --qualities); a lossless page is encoded exactly as the page worker stores
it. Every PDF/A is measured: bytes of each page's image by colour mode
(colour = DCT RGB, grey = DCT grey, bitonal = CCITT G4; lossless pages count under the mode of
their colour space), whole files against the scans' bytes, PDF/A-2b validity. The re-read opens
each archived PDF/A as a scan (rendered at its images' resolution), recognises every non-blank page
again with the real engine, reads the form again with the same extractor and compares each field
value with the one read from the working pages (`pipeline.archive.legibility`).

`--ocrmypdf PATH` also runs OCRmyPDF's optimiser (`PATH --skip-text <args>`, by default `-O3
--output-type pdfa-2`) on each PDF/A the pipeline wrote and measures and re-reads its output the
same way. Seeds from 90000 up are for reported figures only. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pikepdf
import pikepdf.pdfa

from pipeline.archive.legibility import FieldAgreement, reread_document
from pipeline.archive.stage import archive_document
from pipeline.context import RunContext
from pipeline.ocr.factory import get_engine
from pipeline.run import ingest_batch
from pipeline.settings import ArchiveImageSettings, Settings
from pipeline.store import open_store
from schemas.models import ArchiveRecord, Document, PageResult
from schemas.registry import get_registry
from synth import generate_batch

_SCAN_SUFFIXES = {".pdf", ".jpg", ".jpeg", ".png", ".tif", ".tiff"}
_OCRMYPDF_ARGS = "-O3 --output-type pdfa-2 --pdfa-backend internal"


def _page_mode(image: pikepdf.Object) -> str:
    if str(image.get("/Filter")) == "/CCITTFaxDecode" or int(image.get("/BitsPerComponent", 8)) == 1:
        return "bitonal"
    return "grey" if str(image.get("/ColorSpace")) == "/DeviceGray" else "colour"


def measure_pdfs(paths: list[Path]) -> dict[str, Any]:
    """Bytes of page images by colour mode, whole-file bytes, pages and PDF/A-2b validity."""
    by_mode: dict[str, list[int]] = defaultdict(list)
    invalid = []
    for path in paths:
        with pikepdf.open(path) as pdf:
            for page in pdf.pages:
                for image in page.get_images().values():
                    by_mode[_page_mode(image)].append(len(image.read_raw_bytes()))
        if not pikepdf.pdfa.validate_written(path, "2b").passed:
            invalid.append(path.name)
    pages = sum(len(sizes) for sizes in by_mode.values())
    return {
        "files": len(paths),
        "pages": pages,
        "bytes": sum(p.stat().st_size for p in paths),
        "image_bytes_per_page": {
            mode: {"pages": len(sizes), "mean": round(sum(sizes) / len(sizes)), "max": max(sizes)}
            for mode, sizes in sorted(by_mode.items())
        },
        "pdfa_2b_invalid": invalid,
    }


def _scans(batch: Path) -> tuple[int, int]:
    """(bytes, pages) of the scans as delivered."""
    import pypdfium2 as pdfium
    from PIL import Image

    total, pages = 0, 0
    for path in sorted(p for p in batch.rglob("*") if p.suffix.lower() in _SCAN_SUFFIXES):
        total += path.stat().st_size
        if path.suffix.lower() == ".pdf":
            pdf = pdfium.PdfDocument(str(path))
            pages += len(pdf)
            pdf.close()
        else:
            with Image.open(path) as im:
                pages += getattr(im, "n_frames", 1)
    return total, pages


def _reread(archived: list[tuple[Path, Document]], settings: Settings) -> FieldAgreement:
    registry = get_registry()
    engine = get_engine(settings.ocr)
    total = FieldAgreement(compared=0, agreed=0)
    for path, doc in archived:
        label = doc.classification.label if doc.classification else None
        if label is None:
            continue  # no form, no fields to read
        total = total + reread_document(path, doc, registry.form(label), engine)
    return total


def _ocrmypdf(tool: str, args: str, archived: list[tuple[Path, Document]], out_dir: Path) -> tuple[list, float]:
    out_dir.mkdir(parents=True, exist_ok=True)
    done = []
    started = time.perf_counter()
    for path, doc in archived:
        out = out_dir / path.name
        subprocess.run([tool, "--skip-text", *shlex.split(args), str(path), str(out)], check=True, capture_output=True)
        done.append((out, doc))
    return done, time.perf_counter() - started


def _agreement(agreement: FieldAgreement) -> dict[str, Any]:
    return {
        "fields_compared": agreement.compared,
        "agreed": agreement.agreed,
        "rate": round(agreement.rate, 4),
        "differing_keys": sorted({k.split(".")[-1] for k in agreement.differing}),
    }


def _images(quality: int | None) -> ArchiveImageSettings:
    images = ArchiveImageSettings()
    if quality is not None:
        images = images.model_copy(update={"jpeg_quality_colour": quality, "jpeg_quality_grey": quality})
    return images


def _rewrite(
    home: Path,
    batch: Path,
    images: ArchiveImageSettings,
    records: list[tuple[ArchiveRecord, Document, list[PageResult]]],
) -> list[tuple[Path, Document]]:
    """The archive again, into `home`, with `images`: the production writer on the same recognised pages."""
    written = []
    for record, doc, pages in records:
        ctx = RunContext.create(Settings(home=home, archive_images=images), doc.batch_id, batch)
        fresh = archive_document(ctx, record.model_copy(update={"pdfa_path": None, "sha256": None}), doc, pages)
        assert fresh.pdfa_path is not None
        written.append((Path(fresh.pdfa_path), doc))
    return written


def _measured(archived: list[tuple[Path, Document]], scan_bytes: int, reread: Settings | None) -> dict[str, Any]:
    result = measure_pdfs([p for p, _d in archived])
    result["bytes_per_page"] = round(result["bytes"] / result["pages"])
    result["over_scans"] = round(result["bytes"] / scan_bytes, 3)
    if reread is not None:
        result["reread"] = _agreement(_reread(archived, reread))
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="dangan-archive-size-"))
    try:
        batch = work / "batch"
        generate_batch(batch, args.docs, args.seed)
        scan_bytes, scan_pages = _scans(batch)
        # One recognition for every variant: the pages are kept lossless, and each archive encoding is
        # written from them by the production writer, which encodes a lossless page exactly as the page
        # worker would have stored it.
        settings = Settings(
            home=work / "home", workers=args.workers, archive_images=ArchiveImageSettings(lossless=True)
        )
        ingest_batch(batch, settings, show_progress=False)
        store = open_store(settings.database_url)
        try:
            records = [
                (r, doc, store.pages(doc.file_id))
                for r in store.records()
                if r.pdfa_path and (doc := store.get_document(r.doc_id)) is not None
            ]
        finally:
            store.close()
        lossless = [(Path(r.pdfa_path or ""), doc) for r, doc, _p in records]
        reread = None if args.no_reread else settings
        result: dict[str, Any] = {
            "docs": args.docs,
            "seed": args.seed,
            "scans": {"bytes": scan_bytes, "pages": scan_pages, "bytes_per_page": round(scan_bytes / scan_pages)},
            "lossless (before)": _measured(lossless, scan_bytes, None),
        }
        for quality in args.qualities or [None]:
            images = _images(quality)
            name = f"dangan q{images.jpeg_quality_colour}/{images.jpeg_quality_grey}"
            result[name] = _measured(
                _rewrite(work / name.replace(" ", "-"), batch, images, records), scan_bytes, reread
            )
            result[name]["encoding"] = images.model_dump()
        if args.ocrmypdf:
            optimised, seconds = _ocrmypdf(args.ocrmypdf, args.ocrmypdf_args, lossless, work / "ocrmypdf")
            name = f"ocrmypdf {args.ocrmypdf_args}"
            result[name] = _measured(optimised, scan_bytes, reread)
            result[name]["seconds_per_page"] = round(seconds / result[name]["pages"], 3)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return result


def _print(result: dict[str, Any]) -> None:
    scans = result["scans"]
    print(f"scans: {scans['pages']} pages, {scans['bytes']} bytes, {scans['bytes_per_page']} bytes/page")
    for name, m in result.items():
        if not isinstance(m, dict) or "files" not in m:
            continue
        print(
            f"{name}: {m['files']} PDF/A, {m['pages']} pages, {m['bytes_per_page']} bytes/page, "
            f"{m['over_scans']} x the scans, PDF/A-2b invalid: {len(m['pdfa_2b_invalid'])}"
        )
        for mode, sizes in m["image_bytes_per_page"].items():
            print(f"  {mode:<8} {sizes['pages']:>4} pages  mean {sizes['mean']:>9} B  max {sizes['max']:>9} B")
        if "reread" in m:
            r = m["reread"]
            print(f"  re-read agreement {r['rate']} ({r['agreed']}/{r['fields_compared']} fields)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=4711)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--qualities", type=lambda s: [int(q) for q in s.split(",")], help="JPEG qualities to compare, e.g. 45,60"
    )
    parser.add_argument("--no-reread", action="store_true", help="sizes only, no second recognition")
    parser.add_argument("--ocrmypdf", help="path of an ocrmypdf executable to measure its optimiser too")
    parser.add_argument("--ocrmypdf-args", default=_OCRMYPDF_ARGS)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    result = run(parser.parse_args())
    _print(result)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
