"""Run the `dangan` command held at chosen points, so a fault test can kill it exactly there, or let it go on.

    python -m tests.fault_hold <folder> <point>[,<point>...] <dangan arguments...>

At each point the process writes <folder>/<point>.held (its pid) and waits until <folder>/<point>.go
exists. A point is the Nth call of a function of the pipeline, wrapped in this process only: no sleeps
and no timing, so where the run stands when it is killed is the same on every machine. Runs with one
worker (in-process), since the wrappers do not reach a pool's worker processes.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# point: (module, function looked up there, which call holds, what has happened when it holds)
POINTS: dict[str, tuple[str, str, int]] = {
    # The 3rd page image written under its temporary name, not yet renamed; two pages are in the catalogue.
    "recognise": ("pipeline.partial_files", "commit", 3),
    # Assembling the 2nd file: the 1st file's documents are in the catalogue.
    "assemble": ("pipeline.steps", "assemble_file", 2),
    # The 2nd PDF/A written under its temporary name in the archive, not yet renamed; the 1st is done.
    "pdfa": ("pipeline.archive.pdfa", "commit", 2),
    # Every document archived; the run still holds the batch and has not reported.
    "finish": ("pipeline.steps", "finish_batch", 1),
}
POLL_SECONDS = 0.02


def _hold(folder: Path, point: str) -> None:
    held = folder / f"{point}.held"
    held.with_suffix(".tmp").write_text(str(os.getpid()))
    held.with_suffix(".tmp").replace(held)
    while not (folder / f"{point}.go").exists():
        time.sleep(POLL_SECONDS)


def _wrap(folder: Path, point: str, real: Callable[..., Any], at_call: int) -> Callable[..., Any]:
    calls = 0

    @functools.wraps(real)
    def held(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == at_call:
            _hold(folder, point)
        return real(*args, **kwargs)

    return held


def main(argv: list[str]) -> None:
    folder, points, dangan_args = Path(argv[0]), argv[1].split(","), argv[2:]
    # Every module that binds a wrapped function by name is imported first, so the wrapper replaces the
    # name where it is looked up at call time (pdfa's `commit` is its own binding, not partial_files').
    for module in ("pipeline.cli", "pipeline.run", "pipeline.steps", "pipeline.pages", "pipeline.archive.pdfa"):
        importlib.import_module(module)
    for point in points:
        module_name, name, at_call = POINTS[point]
        module = sys.modules[module_name]
        setattr(module, name, _wrap(folder, point, getattr(module, name), at_call))
    from pipeline.cli import main as dangan

    sys.argv = ["dangan", *dangan_args]
    dangan()


if __name__ == "__main__":
    main(sys.argv[1:])
