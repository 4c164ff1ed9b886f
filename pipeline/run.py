"""The embedded runner: every stage of a batch in a local process pool, top to bottom.

The same stage functions are what the Airflow DAGs call (see `pipeline.steps`); this module only
decides where they run (a pool of single-threaded workers) and shows progress.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline import steps
from pipeline.settings import Settings
from pipeline.store import CatalogueStore, open_store
from pipeline.summary import BatchSummary

log = logging.getLogger(__name__)
T = TypeVar("T")


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


def _run_all(
    pool: ProcessPoolExecutor | None, fn: Callable[..., T], jobs: list[tuple[Any, ...]]
) -> Iterator[tuple[tuple[Any, ...], T | BaseException]]:
    """Yield (job, result or exception) as jobs finish; an exception never stops the others."""
    if pool is None:
        for job in jobs:
            try:
                yield job, fn(*job)
            except Exception as e:  # one bad page or document must not stop the batch
                yield job, e
        return
    futures: dict[Future[T], tuple[Any, ...]] = {pool.submit(fn, *job): job for job in jobs}
    for fut in as_completed(futures):
        exc = fut.exception()
        yield futures[fut], (exc if exc is not None else fut.result())


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    )


def ingest_batch(batch_dir: Path, settings: Settings, *, show_progress: bool = True) -> BatchSummary:
    """Ingest one batch folder into the catalogue under settings.home; safe to re-run after a kill."""
    started = time.perf_counter()
    settings.home.mkdir(parents=True, exist_ok=True)
    store: CatalogueStore = open_store(settings.database_url)
    try:
        plan = steps.plan_batch(batch_dir, settings, store)
        ctx = plan.context
        with _executor(worker_count(settings)) as pool, _progress() as progress:
            if not show_progress:
                progress.stop()
            bar = progress.add_task("pages", total=plan.total_pages)
            progress.advance(bar, plan.total_pages - len(plan.page_jobs))
            for job, result in _run_all(pool, steps.run_page, [(ctx, *j) for j in plan.page_jobs]):
                steps.save_page_outcome(store, ctx, job[1], job[4], result)
                progress.advance(bar)

            files = steps.files_ready_to_assemble(store, ctx)
            bar = progress.add_task("documents", total=len(files))
            jobs = [(ctx, f, store.pages(f.file_id)) for f in files]
            for job, docs in _run_all(pool, steps.run_assemble, jobs):
                steps.save_assemble_outcome(store, ctx, job[1], docs)
                progress.advance(bar)

            records = steps.number_records(store, ctx)
            todo = steps.records_to_archive(store, records)
            bar = progress.add_task("PDF/A", total=len(records))
            progress.advance(bar, len(records) - len(todo))
            doc_pages = steps.pages_by_document(store, [doc for _rec, doc in todo])
            archive_jobs = [(ctx, rec, doc, doc_pages[doc.doc_id]) for rec, doc in todo]
            for job, archived in _run_all(pool, steps.run_archive, archive_jobs):
                steps.save_archive_outcome(store, job[1], archived)
                progress.advance(bar)

        steps.index_batch(store, settings, ctx)
        steps.queue_reviews(store, ctx)
        return steps.summarize(store, ctx, plan, time.perf_counter() - started)
    finally:
        store.close()
