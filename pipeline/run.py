"""The embedded runner: every stage of a batch in a local process pool, top to bottom.

The same steps are what the Airflow DAGs run (see `pipeline.steps`, `pipeline.apply`); this module only
decides where they run (a pool of single-threaded workers) and shows progress.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline import steps
from pipeline.apply import OwnErrors, Step, attempt, record_outcome
from pipeline.batch_lock import hold_batch
from pipeline.context import RunContext
from pipeline.ingest.discover import batch_id_for
from pipeline.jobs import Job
from pipeline.settings import Settings
from pipeline.store import CatalogueStore, open_store
from pipeline.summary import BatchSummary

log = logging.getLogger(__name__)
J = TypeVar("J", bound=Job)
W = TypeVar("W")
R = TypeVar("R")


def _init_worker() -> None:
    # One engine thread per worker: the pool, not the engine, uses the cores.
    for var in ("OMP_THREAD_LIMIT", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    import cv2

    cv2.setNumThreads(1)


def worker_count(settings: Settings) -> int:
    return settings.workers or max(1, os.cpu_count() or 1)


@contextmanager
def _executor(workers: int) -> Iterator[ProcessPoolExecutor | None]:
    if workers <= 1:
        yield None
        return
    # spawn: workers must not inherit the parent's threads or open database handles.
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_init_worker) as ex:
        yield ex


def _outcomes(
    pool: ProcessPoolExecutor | None, step: Step[J, W, R], ctx: RunContext, items: list[tuple[J, W]]
) -> Iterator[tuple[J, R | Exception]]:
    """Yield (job, result or error) as items finish, in this process or across the pool."""
    if pool is None:
        for job, work in items:
            outcome: R | Exception = attempt(step, ctx, work)
            yield job, outcome
        return
    futures: dict[Future[R], J] = {pool.submit(step.run, ctx, work): job for job, work in items}
    for fut in as_completed(futures):
        exc = fut.exception()
        if exc is not None and not isinstance(exc, Exception):
            raise exc
        yield futures[fut], (exc if exc is not None else fut.result())


def _progress(show: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
        disable=not show,
    )


class _StepRunner:
    """Each step over the pool, each outcome recorded as it comes, a progress bar per step."""

    def __init__(self, store: CatalogueStore, ctx: RunContext, pool: ProcessPoolExecutor | None, progress: Progress):
        self.store, self.ctx, self.pool, self.progress = store, ctx, pool, progress

    def __call__(self, step: Step[J, W, R], jobs: list[J], total: int | None = None) -> None:
        total = len(jobs) if total is None else total
        bar = self.progress.add_task(step.label, total=total)
        self.progress.advance(bar, total - len(jobs))
        items = step.load(self.store, self.ctx, jobs)
        for job, outcome in _outcomes(self.pool, step, self.ctx, items):
            record_outcome(self.store, self.ctx, step, job, outcome, OwnErrors.SET_ASIDE)
            self.progress.advance(bar)


def ingest_batch(
    batch_dir: Path, settings: Settings, *, show_progress: bool = True, wait: bool = False
) -> BatchSummary:
    """Ingest one batch folder into the catalogue under settings.home; safe to re-run after a kill.

    The batch's lock is held throughout: while another run holds it, BatchBusyError, or with `wait` this
    run waits for it to end (and then finds only what is left to do).
    """
    settings.home.mkdir(parents=True, exist_ok=True)
    with (
        hold_batch(settings, batch_id_for(batch_dir), batch_dir, wait=wait) as lock,
        open_store(settings.database_url) as store,
    ):
        plan = steps.plan_batch(batch_dir, settings, store, lock=lock)
        ctx = plan.context
        with _executor(worker_count(settings)) as pool, _progress(show_progress) as progress:
            run = _StepRunner(store, ctx, pool, progress)
            run(steps.RECOGNISE_PAGES, plan.page_jobs, total=plan.total_pages)
            run(steps.ASSEMBLE_FILES, steps.files_ready_to_assemble(store, ctx))
            records = steps.number_records(store, ctx)
            run(steps.ARCHIVE_RECORDS, steps.records_to_archive(records), total=len(records))
        summary = steps.finish_batch(store, settings, ctx, plan.run_id)
        return summary.model_copy(update={"partial_files_removed": plan.partial_files_removed})
