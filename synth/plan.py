"""The plan of a synthetic batch: which documents, with which pages, go into which files, decided
before anything is drawn.

Each choice draws from a stream of its own (derived from the seed), so adding a kind of choice (separator
sheets, continuation sheets) left every earlier plan of a seed as it was.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pipeline.errors import DanganError
from schemas.registry_models import FormSpec
from synth.degrade import Mode
from synth.separator import SeparatorSymbol

Profile = Literal["box", "counter", "mixed"]
PageKind = Literal["form", "continuation", "id_copy", "certificate", "blank"]
FileKind = Literal["pdf", "tiff", "jpeg"]

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


def pick_mode(rng: random.Random) -> Mode:
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
            FilePlan(name, kind, pick_mode(rng), plans[i : i + take], _separator_plan(seed, box_no, separator_share))
        )
        i += take
    day = datetime(2021, 3, 1) + timedelta(days=rng.randint(0, 900))
    for n, doc in enumerate(plans[n_box:], start=1):
        # decided as if without the continuation sheet, so the plan's stream is the same with or without
        single = len([p for p in doc.pages if p != "continuation"]) == 1
        kind = "jpeg" if single and rng.random() < 0.6 and len(doc.pages) == 1 else "pdf"
        folder = f"counter/{day:%Y%m%d}/" if rng.random() < 0.5 else ""
        ext = "pdf" if kind == "pdf" else rng.choice(["jpg", "jpeg"])
        mode = pick_mode(rng)
        files.append(
            FilePlan(
                f"{folder}{day:%Y%m%d}-{n:04d}.{ext}",
                kind,
                "gray" if mode == "bitonal" and kind == "jpeg" else mode,
                [doc],
            )
        )
    return files
