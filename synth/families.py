"""The synthetic generator families, by name: each writes a batch folder with the same ground truth.

- ``pillow``: the first generator, pages drawn with Pillow (`synth.batch`);
- ``html``: forms written as HTML/CSS tables and printed by Chromium (`synth.html`), written
  independently of the first, so a system tuned on one can be measured on the other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, cast

from pipeline.errors import DanganError
from synth.truth import GroundTruth

Family = Literal["pillow", "html"]
FAMILIES: tuple[Family, ...] = ("pillow", "html")
DEFAULT_FAMILY: Family = "pillow"


def family_name(name: str) -> Family:
    if name not in FAMILIES:
        raise DanganError(f"unknown synthetic family {name!r}; choose one of {', '.join(FAMILIES)}")
    return cast(Family, name)


def generator(family: str) -> Callable[..., GroundTruth]:
    """`generate_batch(out_dir, docs, seed, profile, **options)` of the family."""
    if family_name(family) == "html":
        from synth.html.batch import generate_batch as html_batch

        return html_batch
    from synth.batch import generate_batch as pillow_batch

    return pillow_batch


def generate(family: str, out_dir: Path, docs: int, seed: int, profile: str = "mixed", **options: Any) -> GroundTruth:
    return generator(family)(out_dir, docs, seed, profile, **options)
