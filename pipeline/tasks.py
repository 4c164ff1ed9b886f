"""The steps with plain, JSON-friendly arguments: what an Airflow task calls.

Each function opens the catalogue from settings itself, so a task can run on any worker; tasks
exchange batch paths and jobs (`pipeline.jobs`) over XCom, never images or OCR results.

Bad input is set aside per item as in the embedded runner, but an error of our own is raised
(`OwnErrors.RAISE`): Airflow retries the task, or fails it at once when retrying cannot help.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from pipeline import steps
from pipeline.apply import OwnErrors, apply_step
from pipeline.batch_lock import LockMode, hold_batch
from pipeline.context import RunContext
from pipeline.errors import ConfigError, DanganError
from pipeline.ingest.discover import batch_id_for
from pipeline.jobs import JobJson, PageJob, RecordJob, jobs_from_json, jobs_to_json
from pipeline.nightly import drop_folder, parse_run_time
from pipeline.settings import Settings, get_settings
from pipeline.store import CatalogueStore, open_store

# Airflow refuses to map over more than max_map_length (1024 by default) items.
MAX_MAPPED = 1024

P = ParamSpec("P")
R = TypeVar("R")


def _fail_exception() -> type[Exception] | None:
    try:
        from airflow.sdk.exceptions import AirflowFailException
    except ImportError:  # the tasks also run without Airflow (tests, a plain script)
        return None
    return AirflowFailException


def fail_fast(fn: Callable[P, R]) -> Callable[P, R]:
    """A DanganError that is not `retryable` fails the Airflow task at once.

    The DAGs retry failed tasks (a database restart, an OCR worker killed); retrying a batch folder that
    does not exist or a registry that does not validate only delays the same error by the retry delays.
    The message keeps the cause's, which says how to fix it; the cause stays chained.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except DanganError as e:
            fail = _fail_exception()
            if e.retryable or fail is None:
                raise
            raise fail(f"{type(e).__name__}: {e.message} (not retried: retrying cannot fix this)") from e

    return wrapper


@contextmanager
def _batch(batch_dir: str) -> Iterator[tuple[CatalogueStore, RunContext, Settings]]:
    """The catalogue and the run context of a batch folder, as any worker can open them.

    The batch's lock is held shared meanwhile: beside the DAG run's other tasks, never beside an embedded
    run (BatchBusyError, retryable: Airflow tries the task again after its delay).
    """
    settings = get_settings()
    batch_id = batch_id_for(Path(batch_dir))
    with (
        hold_batch(settings, batch_id, Path(batch_dir), mode=LockMode.SHARED, role="an Airflow task"),
        open_store(settings.database_url) as store,
    ):
        yield store, RunContext.create(settings, batch_id, Path(batch_dir)), settings


def chunked(items: list[Any], chunk_size: int) -> list[list[Any]]:
    """Chunks of at least `chunk_size` (at least 1), never more than MAX_MAPPED of them."""
    if not items:
        return []
    size = max(chunk_size, 1, math.ceil(len(items) / MAX_MAPPED))
    return [items[i : i + size] for i in range(0, len(items), size)]


@fail_fast
def batch_folder(batch_dir: str) -> str:
    """The absolute batch folder; ConfigError when the trigger gave none or it is not a folder."""
    # An empty path would mean the worker's current directory: never ingest that by accident.
    if not batch_dir.strip():
        raise ConfigError('no batch folder given; trigger the DAG with {"batch_dir": "/path/to/batch"}')
    folder = Path(batch_dir).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"{batch_dir}: batch folder does not exist or is not a folder (as the worker sees it)")
    return str(folder.resolve())


@fail_fast
def plan_pages(batch_dir: str, run_id: str, chunk_size: int = 8) -> list[list[JobJson]]:
    """Record the run; the pages still to recognise, as chunks of `PageJob`s for `recognise_pages` to map over."""
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    folder = Path(batch_dir)
    # Exclusive while planning: refused while an embedded run (or another DAG run's task) works on the batch,
    # and the partial files a killed run left can be told from a live writer's.
    role = f"the Airflow plan of {run_id}"
    with (
        hold_batch(settings, batch_id_for(folder), folder, mode=LockMode.EXCLUSIVE, role=role) as lock,
        open_store(settings.database_url) as store,
    ):
        plan = steps.plan_batch(folder, settings, store, run_id, lock=lock)
    return chunked(jobs_to_json(plan.page_jobs), chunk_size)


@fail_fast
def recognise_pages(batch_dir: str, jobs: list[JobJson]) -> int:
    with _batch(batch_dir) as (store, ctx, _settings):
        return apply_step(store, ctx, steps.RECOGNISE_PAGES, jobs_from_json(PageJob, jobs), OwnErrors.RAISE)


@fail_fast
def assemble_documents(batch_dir: str) -> int:
    with _batch(batch_dir) as (store, ctx, _settings):
        jobs = steps.files_ready_to_assemble(store, ctx)
        return apply_step(store, ctx, steps.ASSEMBLE_FILES, jobs, OwnErrors.RAISE)


@fail_fast
def number_records(batch_dir: str, chunk_size: int = 8) -> list[list[JobJson]]:
    """Number the batch's records; the ones without a PDF/A yet, as chunks of `RecordJob`s."""
    with _batch(batch_dir) as (store, ctx, _settings):
        records = steps.number_records(store, ctx)
    return chunked(jobs_to_json(steps.records_to_archive(records)), chunk_size)


@fail_fast
def archive_records(batch_dir: str, jobs: list[JobJson]) -> int:
    with _batch(batch_dir) as (store, ctx, _settings):
        return apply_step(store, ctx, steps.ARCHIVE_RECORDS, jobs_from_json(RecordJob, jobs), OwnErrors.RAISE)


@fail_fast
def finish_batch(batch_dir: str, run_id: str) -> dict[str, Any]:
    """Index, queue reviews and return the run's summary as JSON."""
    with _batch(batch_dir) as (store, ctx, settings):
        return steps.finish_batch(store, settings, ctx, run_id).model_dump(mode="json")


@fail_fast
def night_folder(logical_date: str) -> str:
    """The drop folder of the night a nightly run fired for: its logical date's day in the archive's zone.

    A run without a logical date (triggered by hand without one) has no night: it fails at once.
    """
    return str(drop_folder(get_settings(), parse_run_time(logical_date)))


@fail_fast
def verify_fixity(share: float) -> dict[str, int]:
    """The nightly fixity check. A changed or missing file fails the task at once: waiting for a retry
    cannot mend it, and the alert should not wait either."""
    from pipeline.preserve.fixity import nightly_fixity

    return nightly_fixity(share)
