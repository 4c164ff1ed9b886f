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
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from PIL import Image

from pipeline.errors import DanganError
from schemas.registry_models import SEQ_KEY, FieldSpec, FormSpec
from synth.degrade import Mode, ScanParams, draw_params, scan
from synth.layout import (
    ContinuationMarks,
    FilledField,
    PersonTable,
    SheetStyle,
    render_blank,
    render_certificate,
    render_continuation,
    render_form,
    render_id_copy,
)
from synth.separator import SeparatorSymbol, render_separator
from synth.truth import TRUTH_FILE, DocumentTruth, GroundTruth, PageTruth, SeparatorTruth
from synth.values import (
    Case,
    FieldValue,
    field_value,
    format_amount,
    format_date,
    make_case,
    random_date,
)
from synth.writers import encode_page, write_jpeg, write_pdf, write_tiff

log = logging.getLogger(__name__)

Profile = Literal["box", "counter", "mixed"]
PageKind = Literal["form", "continuation", "id_copy", "certificate", "blank"]
FileKind = Literal["pdf", "tiff", "jpeg"]

REGION_PREFIXES = ["克州", "克孜勒苏柯尔克孜自治州", "阿图什市", "新疆维吾尔自治区", "北京市"]
GENERIC_CERTIFICATES = ["在职证明", "工资收入证明", "解除劳动合同证明书", "情况说明", "户籍证明"]
_MODE_WEIGHTS: list[tuple[Mode, float]] = [("color", 0.55), ("gray", 0.3), ("bitonal", 0.15)]
SEPARATOR_SHARE = 0.25  # of box files whose vendor puts separator sheets between documents
SeparatorPlacement = Literal["before", "between"]  # in front of every document, or only between two
CONTINUATION_SHARE = 0.25  # of documents with a person table whose people overflow onto a continuation sheet


class SynthOutputError(DanganError):
    """The output folder already holds other files; a batch must be alone in its folder."""


@dataclass(frozen=True)
class DocPlan:
    index: int
    form: FormSpec
    pages: tuple[PageKind, ...]
    certificate_titles: tuple[str, ...]


@dataclass
class FilePlan:
    rel_path: str
    kind: FileKind
    mode: Mode  # the scanner's setting for this file; single pages stray from it
    docs: list[DocPlan] = field(default_factory=list)
    separators: tuple[SeparatorSymbol, SeparatorPlacement] | None = None


@dataclass(frozen=True)
class FormSource:
    """What the generator needs from the registry: main forms with fields and their attachments."""

    forms: tuple[FormSpec, ...]
    attachments: dict[str, tuple[str, ...]]  # form_id → attachment titles of its business item


def registry_source() -> FormSource:
    from schemas.registry import get_registry

    registry = get_registry()
    forms = tuple(f for f in registry.main_forms() if f.fields)
    attachments: dict[str, tuple[str, ...]] = {}
    for form in forms:
        item = registry.item_for_form(form.form_id)
        attachments[form.form_id] = tuple(
            registry.form(fid).title for fid in item.attachment_forms if "身份证" not in registry.form(fid).title
        )
    return FormSource(forms, attachments)


def _page_plan(rng: random.Random, counter: bool) -> tuple[PageKind, ...]:
    pages: list[PageKind] = ["form"]
    if rng.random() < 0.15:
        pages.append("blank")
    if rng.random() < (0.35 if counter else 0.6):
        for _ in range(rng.randint(1, 3)):
            pages.append("id_copy" if rng.random() < 0.5 else "certificate")
            if rng.random() < 0.2:
                pages.append("blank")
    return tuple(pages)


def _with_continuation(
    pages: tuple[PageKind, ...], seed: int, index: int, form: FormSpec, share: float
) -> tuple[PageKind, ...]:
    """The continuation sheet goes right behind the form's first sheet; its own stream decides, so the
    rest of the plan stays as it was."""
    if not form.table_columns() or random.Random(f"{seed}/continuation/{index}").random() >= share:
        return pages
    return (pages[0], "continuation", *pages[1:])


def _pick_mode(rng: random.Random) -> Mode:
    roll, acc = rng.random(), 0.0
    for mode, weight in _MODE_WEIGHTS:
        acc += weight
        if roll < acc:
            return mode
    return "color"


def _separator_plan(seed: int, box_no: int, share: float) -> tuple[SeparatorSymbol, SeparatorPlacement] | None:
    # its own stream, so choosing separators leaves the rest of a seed's plan as it was
    rng = random.Random(f"{seed}/separators/{box_no}")
    if rng.random() >= share:
        return None
    symbol: SeparatorSymbol = "qr" if rng.random() < 0.5 else "patch_t"
    placement: SeparatorPlacement = "before" if rng.random() < 0.5 else "between"
    return symbol, placement


def plan_batch(
    source: FormSource,
    docs: int,
    seed: int,
    profile: Profile,
    separator_share: float = SEPARATOR_SHARE,
    continuation_share: float = CONTINUATION_SHARE,
) -> list[FilePlan]:
    """Which documents go into which files, decided before anything is drawn."""
    if not source.forms:
        raise SynthOutputError("the registry has no main form with fields; nothing to render")
    rng = random.Random(f"{seed}/plan")
    # cycle through every form before repeating one, so small batches still cover the registry
    order: list[FormSpec] = []
    while len(order) < docs:
        cycle = list(source.forms)
        rng.shuffle(cycle)
        order.extend(cycle)
    n_box = docs if profile == "box" else 0 if profile == "counter" else round(docs * rng.uniform(0.4, 0.6))
    plans = [
        DocPlan(
            index=i,
            form=form,
            pages=_with_continuation(
                _page_plan(random.Random(f"{seed}/pages/{i}"), counter=i >= n_box), seed, i, form, continuation_share
            ),
            certificate_titles=source.attachments.get(form.form_id, ()),
        )
        for i, form in enumerate(order[:docs])
    ]
    files: list[FilePlan] = []
    i, box_no = 0, 0
    while i < n_box:
        box_no += 1
        take = min(rng.randint(2, 8), n_box - i)
        kind: FileKind = "pdf" if rng.random() < 0.6 else "tiff"
        ext = "pdf" if kind == "pdf" else rng.choice(["tif", "tiff"])
        name = f"box-{box_no:03d}.{ext}"
        if rng.random() < 0.35:  # some vendors keep each box in its own folder
            name = f"box-{box_no:03d}/scan-{rng.randint(1, 99):02d}.{ext}"
        files.append(
            FilePlan(name, kind, _pick_mode(rng), plans[i : i + take], _separator_plan(seed, box_no, separator_share))
        )
        i += take
    day = datetime(2021, 3, 1) + timedelta(days=rng.randint(0, 900))
    for n, doc in enumerate(plans[n_box:], start=1):
        # decided as if without the continuation sheet, so the plan's stream is the same with or without
        single = len([p for p in doc.pages if p != "continuation"]) == 1
        kind = "jpeg" if single and rng.random() < 0.6 and len(doc.pages) == 1 else "pdf"
        folder = f"counter/{day:%Y%m%d}/" if rng.random() < 0.5 else ""
        ext = "pdf" if kind == "pdf" else rng.choice(["jpg", "jpeg"])
        mode = _pick_mode(rng)
        files.append(
            FilePlan(
                f"{folder}{day:%Y%m%d}-{n:04d}.{ext}",
                kind,
                "gray" if mode == "bitonal" and kind == "jpeg" else mode,
                [doc],
            )
        )
    return files


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


# Share of the table's width per column; the ID column is widest because 18 digits are written by hand.
_COLUMN_WIDTHS = {
    SEQ_KEY: 5.0,
    "name": 13.0,
    "sex": 6.0,
    "id_number": 30.0,
    "change_type": 9.0,
    "change_date": 18.0,
    "contribution_base": 13.0,
    "change_reason": 14.0,
}
_OPTIONAL_COLUMNS = {"sex": 0.7, "change_reason": 0.5}  # chance the form prints the column
_REASONS = {"增加": ["新参保", "调入", "新招录", "续保"], "减少": ["调出", "离职", "退休", "死亡", "解除劳动合同"]}
_ONLY_IN_THE_ID = {"birth_date"}  # a person table prints no birth date column: the ID number holds it


def _row_value(spec: FieldSpec, case: Case, row_case: Case, change_type: str, rng: random.Random) -> FieldValue:
    p = row_case.person
    if spec.key == "name":
        return FieldValue(p.name, p.name)
    if spec.key == "sex":
        return FieldValue(p.sex, p.sex)
    if spec.key == "id_number":
        return FieldValue(p.id_number, p.id_number.upper())
    if spec.key == "change_type":
        return FieldValue(change_type, change_type)
    if spec.key == "change_date":
        d = random_date(rng, case.form_date - timedelta(days=90), case.form_date)
        return FieldValue(format_date(d, case.date_style), d.isoformat())
    if spec.key == "contribution_base":
        value = float(rng.randint(20, 300) * 100) if rng.random() < 0.5 else round(rng.uniform(2000, 30000), 2)
        return FieldValue(format_amount(rng, value), f"{value:.2f}")
    if spec.key == "change_reason":
        reason = rng.choice(_REASONS.get(change_type, ["其他"]))
        return FieldValue(reason, reason)
    return field_value(spec, row_case, rng)


def _person_table(form: FormSpec, case: Case, rng: random.Random) -> PersonTable | None:
    """2–8 people changed by one unit on one form; the first is the document's own person."""
    specs = [s for s in form.table_columns() if rng.random() < _OPTIONAL_COLUMNS.get(s.key, 1.0)]
    if not specs:
        return None
    chosen = [
        (SEQ_KEY, "序号"),
        *((s.key, rng.choice(s.synonyms) if s.synonyms and rng.random() < 0.4 else s.label) for s in specs),
    ]
    total = sum(_COLUMN_WIDTHS[k] for k, _ in chosen)
    columns = tuple((k, label, _COLUMN_WIDTHS[k] / total) for k, label in chosen)
    change_type = rng.choice(["增加", "减少"])
    rows = []
    for i in range(rng.randint(2, 8)):
        row_case = case if i == 0 else make_case(rng)
        kind = change_type if rng.random() < 0.8 else rng.choice(["增加", "减少"])
        rows.append({s.key: _row_value(s, case, row_case, kind, rng) for s in specs})
    return PersonTable(columns, tuple(rows), max(len(rows), rng.randint(5, 9)))


_TITLE_MARKS = ("（续）", "（续表）", "(续)", "（续页）")
_MARKERS = ("续表", "（续）", "续表：", "（续上页）", "接上页")


def _overflow(table: PersonTable, form: FormSpec, case: Case, rng: random.Random) -> tuple[PersonTable, range]:
    """More people than the first sheet holds: it is filled, and 1–6 more go on a continuation sheet.
    Returns the table with every row and the row indices the continuation sheet prints."""
    printed = {key for key, _, _ in table.columns}
    specs = [s for s in form.table_columns() if s.key in printed]
    first = table.rows[0].get("change_type")
    change_type = first.normalised if first is not None else rng.choice(["增加", "减少"])
    rows = list(table.rows)
    total = table.printed_rows + rng.randint(1, 6)
    while len(rows) < total:
        row_case = make_case(rng)
        kind = change_type if rng.random() < 0.8 else rng.choice(["增加", "减少"])
        rows.append({s.key: _row_value(s, case, row_case, kind, rng) for s in specs})
    left = total - table.printed_rows
    return PersonTable(table.columns, tuple(rows), table.printed_rows), range(
        table.printed_rows, table.printed_rows + max(left, rng.randint(6, 14))
    )


def _continuation_marks(title: str, rng: random.Random) -> tuple[ContinuationMarks, str | None]:
    """How a continuation sheet says it continues, and the footer of the first sheet (第1页 共2页) when
    the vendor numbers sheets. A sheet without its header always carries some mark."""
    header = rng.random() < 0.5
    numbered = rng.random() < 0.3
    roll = rng.random()
    sheet_title: str | None = None
    if roll < 0.3:
        sheet_title = title + rng.choice(_TITLE_MARKS)
    elif roll < 0.4:
        sheet_title, numbered = title, True  # the title again, plain: only the sheet numbers tell
    marker = rng.choice(_MARKERS) if rng.random() < 0.5 else None
    if not header and marker is None and not numbered and sheet_title is None:
        marker = rng.choice(_MARKERS)
    marks = ContinuationMarks(
        title=sheet_title,
        marker=marker,
        marker_right=rng.random() < 0.3,
        page_footer="第2页 共2页" if numbered else None,
        header=header,
    )
    return marks, "第1页 共2页" if numbered else None


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
    table = _person_table(doc.form, case, rng) if doc.form.table_columns() else None
    if table is not None:
        in_table = {s.key for s in doc.form.table_columns()} | _ONLY_IN_THE_ID
        fields = [f for f in fields if f.spec.key not in in_table]
    pages = doc.pages if table is not None else tuple(k for k in doc.pages if k != "continuation")
    cont_rng = random.Random(f"{seed}/continuation-sheet/{doc.index}")
    continuation: tuple[range, ContinuationMarks] | None = None
    footer: str | None = None
    if table is not None and "continuation" in pages:
        table, cont_rows = _overflow(table, doc.form, case, cont_rng)
        marks, footer = _continuation_marks(title, cont_rng)
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
        mode = file.mode if page_rng.random() < 0.85 else _pick_mode(page_rng)
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
    mode = file.mode if rng.random() < 0.85 else _pick_mode(rng)
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
