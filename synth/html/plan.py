"""Which documents go into which files, and which pages each document has, decided before drawing.

The same batch shapes as the first family (box files of several documents, counter scans of one,
separator sheets in some boxes), with this family's own shares.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from schemas.registry_models import FormSpec
from synth.degrade import Mode

Profile = Literal["box", "counter", "mixed"]
SheetKind = Literal["form", "continuation", "id_copy", "letter", "blank"]
FileKind = Literal["pdf", "tiff", "jpeg"]
SeparatorSymbol = Literal["qr", "patch_t"]

SEPARATOR_SHARE = 0.3
CONTINUATION_SHARE = 0.3
_MODES: tuple[tuple[Mode, float], ...] = (("color", 0.45), ("gray", 0.35), ("bitonal", 0.2))


@dataclass(frozen=True)
class DocPlan:
    index: int
    form: FormSpec
    sheets: tuple[SheetKind, ...]
    letter_titles: tuple[str, ...]


@dataclass
class FilePlan:
    rel_path: str
    kind: FileKind
    mode: Mode
    docs: list[DocPlan] = field(default_factory=list)
    separator: SeparatorSymbol | None = None
    separator_first: bool = False  # a separator in front of the first document too


def pick_mode(rng: random.Random) -> Mode:
    roll, acc = rng.random(), 0.0
    for mode, share in _MODES:
        acc += share
        if roll < acc:
            return mode
    return "gray"


def _sheets(rng: random.Random, form: FormSpec, counter: bool, continuation: bool) -> tuple[SheetKind, ...]:
    sheets: list[SheetKind] = ["form"]
    if continuation and form.table_columns():
        sheets.append("continuation")
    if rng.random() < 0.2:
        sheets.append("blank")  # the form's empty verso, scanned duplex
    if rng.random() < (0.6 if counter else 0.7):
        sheets.append("id_copy")
        if rng.random() < 0.25:
            sheets.append("blank")
    if rng.random() < 0.3:
        sheets.append("letter")
    return tuple(sheets)


def plan_batch(
    forms: list[FormSpec],
    attachments: dict[str, tuple[str, ...]],
    docs: int,
    seed: int,
    profile: Profile,
    separator_share: float = SEPARATOR_SHARE,
    continuation_share: float = CONTINUATION_SHARE,
) -> list[FilePlan]:
    rng = random.Random(f"{seed}/html/plan")
    order: list[FormSpec] = []
    while len(order) < docs:  # every form once before any form twice
        cycle = list(forms)
        rng.shuffle(cycle)
        order.extend(cycle)
    n_box = docs if profile == "box" else 0 if profile == "counter" else round(docs * rng.uniform(0.35, 0.65))
    plans = []
    for i, form in enumerate(order[:docs]):
        doc_rng = random.Random(f"{seed}/html/sheets/{i}")
        cont = random.Random(f"{seed}/html/continuation/{i}").random() < continuation_share
        plans.append(DocPlan(i, form, _sheets(doc_rng, form, i >= n_box, cont), attachments.get(form.form_id, ())))
    files: list[FilePlan] = []
    i = box = 0
    while i < n_box:
        box += 1
        take = min(rng.randint(2, 7), n_box - i)
        kind: FileKind = "pdf" if rng.random() < 0.65 else "tiff"
        ext = "pdf" if kind == "pdf" else "tif"
        name = f"juan-{box:03d}.{ext}" if rng.random() < 0.6 else f"box{box:02d}/part-{box:03d}.{ext}"
        sep_rng = random.Random(f"{seed}/html/separators/{box}")
        symbol: SeparatorSymbol | None = None
        if sep_rng.random() < separator_share:
            symbol = "qr" if sep_rng.random() < 0.5 else "patch_t"
        files.append(FilePlan(name, kind, pick_mode(rng), plans[i : i + take], symbol, sep_rng.random() < 0.5))
        i += take
    day = date(2022, 1, 3) + timedelta(days=rng.randint(0, 700))
    for n, doc in enumerate(plans[n_box:], start=1):
        single = doc.sheets == ("form",)
        kind = "jpeg" if single and rng.random() < 0.5 else "pdf"
        ext = "jpg" if kind == "jpeg" else "pdf"
        folder = f"counter-{day:%Y%m%d}/" if rng.random() < 0.5 else ""
        mode = pick_mode(rng)
        files.append(
            FilePlan(
                f"{folder}scan{n:04d}.{ext}", kind, "gray" if kind == "jpeg" and mode == "bitonal" else mode, [doc]
            )
        )
    return files
