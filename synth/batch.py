"""Orchestration of a synthetic batch: plan documents and files, render, degrade, write, record truth.

Every document draws from its own random streams (derived from the seed and its index), so files
can be rendered in any order, in parallel, and still come out byte-identical for the same seed.
Continuation sheets (续表) of long person tables draw from streams of their own, so adding them left
every document without one as it was.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from PIL import Image

from schemas.registry_models import FormSpec
from synth.attachments import render_blank, render_certificate, render_id_copy
from synth.degrade import ScanParams, draw_params, scan
from synth.forms import ContinuationMarks, FilledField, SheetStyle, render_continuation, render_form
from synth.person_rows import ONLY_IN_THE_ID, continuation_marks, overflow, person_table
from synth.plan import (
    CONTINUATION_SHARE,
    SEPARATOR_SHARE,
    DocPlan,
    FilePlan,
    FormSource,
    Profile,
    SynthOutputError,
    pick_mode,
    plan_batch,
    registry_source,
)
from synth.separator import render_separator
from synth.truth import TRUTH_FILE, DocumentTruth, GroundTruth, PageTruth, SeparatorTruth
from synth.values import Case, field_value, make_case
from synth.writers import encode_page, write_jpeg, write_pdf, write_tiff

log = logging.getLogger(__name__)

REGION_PREFIXES = ["克州", "克孜勒苏柯尔克孜自治州", "阿图什市", "新疆维吾尔自治区", "北京市"]
GENERIC_CERTIFICATES = ["在职证明", "工资收入证明", "解除劳动合同证明书", "情况说明", "户籍证明"]


def _title(form: FormSpec, rng: random.Random) -> str:
    roll = rng.random()
    if form.variants and roll < 0.4:
        return rng.choice(form.variants)
    if roll > 0.82 and not any(form.title.startswith(p) for p in REGION_PREFIXES):
        return rng.choice(REGION_PREFIXES) + form.title
    return form.title


def _fill(form: FormSpec, case: Case, rng: random.Random) -> list[FilledField]:
    filled = []
    for spec in form.fields:
        label = rng.choice(spec.synonyms) if spec.synonyms and rng.random() < 0.3 else spec.label
        blank = not spec.required and rng.random() < 0.08
        filled.append(FilledField(spec, label, None if blank else field_value(spec, case, rng)))
    return filled


@dataclass
class _Scanned:
    image: Image.Image
    dpi: int
    truth: PageTruth


def _render_doc(doc: DocPlan, seed: int, file: FilePlan) -> tuple[DocumentTruth, list[_Scanned]]:
    rng = random.Random(f"{seed}/doc/{doc.index}")
    case = make_case(rng)
    fields = _fill(doc.form, case, rng)
    title = _title(doc.form, rng)
    table = person_table(doc.form, case, rng) if doc.form.table_columns() else None
    if table is not None:
        in_table = {s.key for s in doc.form.table_columns()} | ONLY_IN_THE_ID
        fields = [f for f in fields if f.spec.key not in in_table]
    pages = doc.pages if table is not None else tuple(k for k in doc.pages if k != "continuation")
    cont_rng = random.Random(f"{seed}/continuation-sheet/{doc.index}")
    continuation: tuple[range, ContinuationMarks] | None = None
    footer: str | None = None
    if table is not None and "continuation" in pages:
        table, cont_rows = overflow(table, doc.form, case, cont_rng)
        marks, footer = continuation_marks(title, cont_rng)
        continuation = cont_rows, marks
    scanned: list[_Scanned] = []
    previous: Image.Image | None = None
    style: SheetStyle | None = None
    for kind in pages:
        page_rng = cont_rng if kind == "continuation" else rng
        dpi = 200 if page_rng.random() < 0.2 else 300
        if kind == "form":
            clean, style = render_form(title, fields, case, rng, dpi, table, footer)
        elif kind == "continuation":
            assert table is not None and continuation is not None and style is not None
            clean = render_continuation(table, continuation[0], style, continuation[1], cont_rng, dpi)
        elif kind == "id_copy":
            clean = render_id_copy(case, rng, dpi)
        elif kind == "certificate":
            titles = list(doc.certificate_titles) or GENERIC_CERTIFICATES
            clean = render_certificate(rng.choice(titles), case, rng, dpi)
        else:
            clean = render_blank(dpi, previous, rng)
        previous = clean
        mode = file.mode if page_rng.random() < 0.85 else pick_mode(page_rng)
        if file.kind == "jpeg" and mode == "bitonal":
            mode = "gray"
        params: ScanParams = draw_params(page_rng, blank=kind == "blank", mode=mode)
        image = scan(clean, params)
        truth_kind: Literal["form", "continuation", "attachment", "blank"] = (
            kind if kind in ("form", "continuation", "blank") else "attachment"
        )
        page_truth = PageTruth(
            kind=truth_kind, rotation=params.rotation, skew_deg=params.skew_deg, dpi=dpi, mode=params.mode
        )
        scanned.append(_Scanned(image, dpi, page_truth))
    truth = DocumentTruth(
        doc_index=doc.index,
        source_file=file.rel_path,
        first_page=1,
        last_page=len(scanned),
        form_id=doc.form.form_id,
        form_title=doc.form.title,
        title_printed=title,
        fields={
            **{f.spec.key: f.value.normalised for f in fields if f.value is not None},
            # the document is filed under the table's first person
            **({k: v.normalised for k, v in table.rows[0].items()} if table is not None else {}),
        },
        pages=[s.truth for s in scanned],
        rows=[{k: v.normalised for k, v in row.items()} for row in table.rows] if table is not None else [],
    )
    return truth, scanned


def _render_separator(file: FilePlan, seed: int, n: int) -> _Scanned:
    """The separator sheet in front of the file's n-th document, scanned like any other page."""
    assert file.separators is not None
    rng = random.Random(f"{seed}/separator/{file.rel_path}/{n}")
    dpi = 200 if rng.random() < 0.2 else 300
    clean = render_separator(file.separators[0], dpi, rng, file.rel_path.split("/")[0].split(".")[0])
    mode = file.mode if rng.random() < 0.85 else pick_mode(rng)
    params = draw_params(rng, blank=False, mode=mode)
    truth = PageTruth(kind="separator", rotation=params.rotation, skew_deg=params.skew_deg, dpi=dpi, mode=params.mode)
    return _Scanned(scan(clean, params), dpi, truth)


def render_file(out_dir: Path, file: FilePlan, seed: int) -> tuple[list[DocumentTruth], list[SeparatorTruth]]:
    """Render, degrade and write one source file; returns the truth of its documents and separator sheets."""
    rng = random.Random(f"{seed}/file/{file.rel_path}")
    scan_time = datetime(2021, 1, 1) + timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
    path = out_dir / file.rel_path
    path.parent.mkdir(parents=True, exist_ok=True)
    truths: list[DocumentTruth] = []
    pdf_pages: list[bytes] = []
    tiff_pages: list[tuple[Image.Image, int]] = []
    page_no = 0
    quality = rng.randint(55, 85)
    separators: list[SeparatorTruth] = []
    for n, doc in enumerate(file.docs):
        if file.separators is not None and (n > 0 or file.separators[1] == "before"):
            sheet = _render_separator(file, seed, n)
            page_no += 1
            separators.append(
                SeparatorTruth(source_file=file.rel_path, page_no=page_no, symbol=file.separators[0], page=sheet.truth)
            )
            if file.kind == "pdf":
                pdf_pages.append(encode_page(sheet.image, sheet.dpi, quality))
            else:
                tiff_pages.append((sheet.image, sheet.dpi))
        truth, scanned = _render_doc(doc, seed, file)
        truths.append(truth.model_copy(update={"first_page": page_no + 1, "last_page": page_no + len(scanned)}))
        page_no += len(scanned)
        for s in scanned:
            if file.kind == "pdf":
                pdf_pages.append(encode_page(s.image, s.dpi, quality))
            elif file.kind == "tiff":
                tiff_pages.append((s.image, s.dpi))
            else:
                write_jpeg(path, s.image, s.dpi, quality)
    if file.kind == "pdf":
        write_pdf(path, pdf_pages, scan_time)
    elif file.kind == "tiff":
        write_tiff(path, tiff_pages, scan_time)
    return truths, separators


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        raise SynthOutputError(
            f"{out_dir} is not empty; give `dangan synth --out` a new or empty folder so the batch holds "
            "only its own scans and ground_truth.json"
        )
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
    """Write a synthetic batch of `docs` documents into `out_dir` and return its ground truth.

    `source` defaults to the form registry; `workers` to the number of CPUs (at most 4);
    `on_document(n)` is called as files finish with the number of documents they held;
    `separator_share` is the share of box files with separator sheets (0 for none);
    `continuation_share` the share of documents with a person table that get a continuation sheet.
    """
    if docs < 1:
        raise SynthOutputError(f"docs must be at least 1, got {docs}")
    if profile not in ("box", "counter", "mixed"):
        raise SynthOutputError(f"profile must be box, counter or mixed, got {profile!r}")
    for name, share in (("separator_share", separator_share), ("continuation_share", continuation_share)):
        if not 0.0 <= share <= 1.0:
            raise SynthOutputError(f"{name} must be between 0 and 1, got {share}")
    _check_out_dir(out_dir)
    src = source if source is not None else registry_source()
    files = plan_batch(src, docs, seed, profile, separator_share, continuation_share)
    n_workers = max(1, min(workers if workers is not None else (os.cpu_count() or 1), 4, len(files)))
    log.info(
        "synth: %d documents in %d files, seed %d, profile %s, %d workers", docs, len(files), seed, profile, n_workers
    )
    truths: list[DocumentTruth] = []
    separators: list[SeparatorTruth] = []
    if n_workers == 1:
        results = (render_file(out_dir, plan, seed) for plan in files)
        for done, seps in results:
            truths.extend(done)
            separators.extend(seps)
            if on_document:
                on_document(len(done))
    else:
        with ProcessPoolExecutor(max_workers=n_workers) as pool:
            futures = [pool.submit(render_file, out_dir, plan, seed) for plan in files]
            for future in futures:
                done, seps = future.result()
                truths.extend(done)
                separators.extend(seps)
                if on_document:
                    on_document(len(done))
    truth = GroundTruth(
        seed=seed,
        profile=profile,
        documents=sorted(truths, key=lambda d: d.doc_index),
        separators=sorted(separators, key=lambda s: (s.source_file, s.page_no)),
    )
    (out_dir / TRUTH_FILE).write_text(truth.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return truth
