"""`dangan synth`: write a synthetic batch with a progress bar."""

from __future__ import annotations

import time
from pathlib import Path
from typing import cast

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline.errors import DanganError
from synth.families import DEFAULT_FAMILY, generator
from synth.plan import Profile


def main_synth(out: Path, docs: int, seed: int, profile: str, family: str = DEFAULT_FAMILY) -> None:
    """Generate `docs` synthetic documents of `family` into `out` (must be new or empty) and summarise them."""
    if profile not in ("box", "counter", "mixed"):
        raise DanganError(f"--profile must be box, counter or mixed, not {profile!r}")
    generate_batch = generator(family)
    console = Console(stderr=True)
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]synth[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("documents"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("synth", total=docs)
        truth = generate_batch(out, docs, seed, cast(Profile, profile), on_document=lambda n: progress.advance(task, n))
    files = truth.files()
    pages = sum(files.values())
    console.print(
        f"wrote {len(truth.documents)} documents, {pages} pages in {len(files)} files to {out} "
        f"in {time.perf_counter() - started:.1f} s (seed {seed}, profile {profile}, family {family})"
    )
