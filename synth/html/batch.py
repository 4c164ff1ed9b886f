"""A batch of the html family: plan, write every sheet as HTML, print them all at once, scan, record truth.

Every document draws from its own random streams (seed, family and index), so the files come out the
same for a seed whatever the number of workers. Chromium prints all sheets of a batch in a few large
documents (starting it costs seconds); pages are then rasterised and scanned file by file in parallel.
"""

from __future__ import annotations

import logging
import os
import random
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from schemas.registry_models import FormSpec
from synth.batch import REGION_PREFIXES
from synth.degrade import ScanParams, draw_params
from synth.html.attachments import id_copy_page, letter_page, separator_page
from synth.html.entries import fill
from synth.html.form_html import form_page
from synth.html.people import html_case
from synth.html.plan import CONTINUATION_SHARE, SEPARATOR_SHARE, DocPlan, FilePlan, Profile, pick_mode
from synth.html.plan import plan_batch as plan_files
from synth.html.render import print_pdf
from synth.html.scan import SHEETS_PER_PRINT, FileJob, PageJob, render_file
from synth.html.sheet import document
from synth.html.style import draw_style
from synth.html.table_html import continuation_page, person_table, table_html
from synth.plan import FormSource, SynthOutputError, registry_source
from synth.truth import TRUTH_FILE, DocumentTruth, GroundTruth, PageTruth, SeparatorTruth

log = logging.getLogger(__name__)

GENERATOR_VERSION = "html-1.1"  # 1.1: a "newer" ID code never one in use in the birth year
FAMILY = "html"
_LETTERS = ("在职证明", "情况说明", "工资收入证明", "证明")
_ROTATIONS: tuple[Literal[90, 180, 270], ...] = (90, 180, 270)


@dataclass
class _Built:
    html: list[str]
    jobs: list[PageJob]
    truth: DocumentTruth | None


def _title(form: FormSpec, rng: random.Random) -> str:
    roll = rng.random()
    if form.variants and roll < 0.35:
        return rng.choice(form.variants)
    if roll > 0.85 and not any(form.title.startswith(p) for p in REGION_PREFIXES):
        return rng.choice(REGION_PREFIXES) + form.title
    return form.title


def _scan_params(seed: int, doc: int, k: int, kind: str, file: FilePlan) -> tuple[int, ScanParams]:
    rng = random.Random(f"{seed}/html/scan/{doc}/{k}")
    dpi = 200 if rng.random() < 0.25 else 300
    mode = file.mode if rng.random() < 0.85 else pick_mode(rng)
    if file.kind == "jpeg" and mode == "bitonal":
        mode = "gray"
    params = draw_params(rng, blank=kind == "blank", mode=mode)
    if kind == "id_copy":  # copies are laid on the glass any way round
        rotation = 0 if rng.random() < 0.6 else rng.choice(_ROTATIONS)
        params = replace(params, rotation=rotation)
    return dpi, params


def _page_truth(kind: str, dpi: int, params: ScanParams) -> PageTruth:
    truth_kind: Literal["form", "continuation", "attachment", "blank", "separator"]
    truth_kind = kind if kind in ("form", "continuation", "blank", "separator") else "attachment"  # type: ignore[assignment]
    return PageTruth(kind=truth_kind, rotation=params.rotation, skew_deg=params.skew_deg, dpi=dpi, mode=params.mode)


def build_document(doc: DocPlan, seed: int, file: FilePlan, first_index: int) -> _Built:
    """The sheets of one document as HTML, the scan of each page, and the document's ground truth."""
    rng = random.Random(f"{seed}/html/doc/{doc.index}")
    case, issued = html_case(rng)
    style = draw_style(rng)
    title = _title(doc.form, rng)
    entries = fill(doc.form, case, rng)
    overflow = "continuation" in doc.sheets
    table = person_table(doc.form, case, rng, overflow) if doc.form.table_columns() else None
    if table is not None:
        in_table = {s.key for s in doc.form.table_columns()} | {"birth_date"}  # the ID number holds the birth date
        entries = [e for e in entries if e.key not in in_table]
    numbered = overflow and rng.random() < 0.3
    html: list[str] = []
    jobs: list[PageJob] = []
    pages: list[PageTruth] = []
    for k, kind in enumerate(doc.sheets):
        sheet: str | None
        if kind == "form":
            extra = table_html(table, style, rng, "第1页 共2页" if numbered else None) if table else ""
            sheet = form_page(title, entries, style, case, rng, extra)
        elif kind == "continuation":
            assert table is not None
            sheet = continuation_page(table, title, style, rng, numbered)
        elif kind == "id_copy":
            sheet = id_copy_page(case, issued, style, rng)
        elif kind == "letter":
            sheet = letter_page(rng.choice(doc.letter_titles or _LETTERS), case, style, rng)
        else:
            sheet = None  # a blank verso is made from the page before it, without printing
        dpi, params = _scan_params(seed, doc.index, k, kind, file)
        index = None
        if sheet is not None:
            index = first_index + len(html)
            html.append(sheet)
        jobs.append(PageJob(index, kind, dpi, params))
        pages.append(_page_truth(kind, dpi, params))
    fields = {e.key: e.value.normalised for e in entries if e.value is not None}
    rows = [{k: v.normalised for k, v in row.items()} for row in table.rows] if table is not None else []
    if rows:
        fields.update(rows[0])  # the document is filed under the table's first person
    truth = DocumentTruth(
        doc_index=doc.index,
        source_file=file.rel_path,
        first_page=1,
        last_page=len(pages),
        form_id=doc.form.form_id,
        form_title=doc.form.title,
        title_printed=title,
        fields=fields,
        pages=pages,
        rows=rows,
    )
    return _Built(html, jobs, truth)


def _separator(file: FilePlan, seed: int, n: int, index: int) -> tuple[str, PageJob, PageTruth]:
    assert file.separator is not None
    rng = random.Random(f"{seed}/html/separator/{file.rel_path}/{n}")
    label = file.rel_path.split("/")[0].split(".")[0]
    dpi = 200 if rng.random() < 0.25 else 300
    mode = file.mode if rng.random() < 0.85 else pick_mode(rng)
    params = draw_params(rng, mode=mode)
    return (
        separator_page(file.separator, label, rng),
        PageJob(index, "separator", dpi, params),
        _page_truth("separator", dpi, params),
    )


def build_batch(files: list[FilePlan], seed: int) -> tuple[list[str], list[FileJob], GroundTruth]:
    """All sheets in print order, what to do with each printed page, and the batch's ground truth."""
    html: list[str] = []
    jobs: list[FileJob] = []
    docs: list[DocumentTruth] = []
    seps: list[SeparatorTruth] = []
    for file in files:
        rng = random.Random(f"{seed}/html/file/{file.rel_path}")
        scan_time = datetime(2022, 1, 1) + timedelta(seconds=rng.randint(0, 2 * 365 * 86400))
        file_jobs: list[PageJob] = []
        for n, doc in enumerate(file.docs):
            if file.separator is not None and (n > 0 or file.separator_first):
                sheet, job, page = _separator(file, seed, n, len(html))
                html.append(sheet)
                file_jobs.append(job)
                seps.append(
                    SeparatorTruth(source_file=file.rel_path, page_no=len(file_jobs), symbol=file.separator, page=page)
                )
            built = build_document(doc, seed, file, len(html))
            html.extend(built.html)
            assert built.truth is not None
            first = len(file_jobs) + 1
            file_jobs.extend(built.jobs)
            docs.append(built.truth.model_copy(update={"first_page": first, "last_page": len(file_jobs)}))
        jobs.append(FileJob(file.rel_path, file.kind, rng.randint(55, 85), scan_time, tuple(file_jobs)))
    truth = GroundTruth(seed=seed, generator_version=GENERATOR_VERSION, documents=docs, separators=seps)
    return html, jobs, truth


def print_sheets(html: list[str], work: Path, workers: int) -> tuple[list[Path], int]:
    """Print the sheets in runs of SHEETS_PER_PRINT, two at once when there are workers for them
    (Chromium renders one document on one core); returns the PDFs and the sheets per run."""
    per = SHEETS_PER_PRINT
    chunks = [html[i : i + per] for i in range(0, len(html), per)]
    paths = [work / f"print-{n:03d}.pdf" for n in range(len(chunks))]
    with ThreadPoolExecutor(max_workers=max(1, min(workers, 2))) as pool:
        list(pool.map(lambda cp: print_pdf(document(cp[0]), cp[1], len(cp[0])), zip(chunks, paths, strict=True)))
    return paths, per


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        raise SynthOutputError(f"{out_dir} is not empty; give the html family a new or empty folder")
    out_dir.mkdir(parents=True, exist_ok=True)


def generate_batch(
    out_dir: Path,
    docs: int,
    seed: int,
    profile: Profile = "mixed",
    *,
    source: FormSource | None = None,
    workers: int | None = None,
    on_document: Callable[[int], None] | None = None,
    separator_share: float = SEPARATOR_SHARE,
    continuation_share: float = CONTINUATION_SHARE,
) -> GroundTruth:
    """Write `docs` documents of the html family into `out_dir` (new or empty) and return their truth."""
    if docs < 1:
        raise SynthOutputError(f"docs must be at least 1, got {docs}")
    if profile not in ("box", "counter", "mixed"):
        raise SynthOutputError(f"profile must be box, counter or mixed, got {profile!r}")
    for name, share in (("separator_share", separator_share), ("continuation_share", continuation_share)):
        if not 0.0 <= share <= 1.0:
            raise SynthOutputError(f"{name} must be between 0 and 1, got {share}")
    _check_out_dir(out_dir)
    src = source if source is not None else registry_source()
    if not src.forms:
        raise SynthOutputError("the registry has no main form with fields; nothing to render")
    files = plan_files(list(src.forms), src.attachments, docs, seed, profile, separator_share, continuation_share)
    html, file_jobs, truth = build_batch(files, seed)
    truth = truth.model_copy(update={"profile": profile})
    n_workers = max(1, min(workers if workers is not None else (os.cpu_count() or 1), 4, len(file_jobs)))
    log.info("synth html: %d documents, %d sheets, %d files, seed %d", docs, len(html), len(file_jobs), seed)
    with tempfile.TemporaryDirectory(prefix="dangan-html-") as tmp:
        pdfs, per = print_sheets(html, Path(tmp), n_workers)
        per_file = {f.rel_path: len(f.docs) for f in files}
        if n_workers == 1:
            for job in file_jobs:
                render_file(out_dir, job, pdfs, per)
                if on_document:
                    on_document(per_file[job.rel_path])
        else:
            with ProcessPoolExecutor(max_workers=n_workers) as pool:
                futures = [(job, pool.submit(render_file, out_dir, job, pdfs, per)) for job in file_jobs]
                for job, future in futures:
                    future.result()
                    if on_document:
                        on_document(per_file[job.rel_path])
    (out_dir / TRUTH_FILE).write_text(truth.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return truth
