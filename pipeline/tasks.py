"""The steps with plain, JSON-friendly arguments: what an Airflow task calls.

Each function opens the catalogue from settings itself, so a task can run on any worker; tasks
exchange batch paths and ids over XCom, never images or OCR results.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from pipeline import steps
from pipeline.context import RunContext
from pipeline.errors import ConfigError, DanganError
from pipeline.ingest.discover import batch_id_for
from pipeline.settings import Settings, get_settings
from pipeline.store import CatalogueStore, open_store
from schemas.models import FileKind

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
def _store(settings: Settings) -> Iterator[CatalogueStore]:
    store = open_store(settings.database_url)
    try:
        yield store
    finally:
        store.close()


def _ctx(batch_dir: str, settings: Settings) -> RunContext:
    return RunContext.create(settings, batch_id_for(Path(batch_dir)), Path(batch_dir))


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
def plan_pages(batch_dir: str, chunk_size: int = 8) -> list[list[dict[str, Any]]]:
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    with _store(settings) as store:
        plan = steps.plan_batch(Path(batch_dir), settings, store)
    jobs = [{"file_id": f, "rel_path": r, "kind": k.value, "page_no": n} for f, r, k, n in plan.page_jobs]
    return chunked(jobs, chunk_size)


@fail_fast
def recognise_pages(batch_dir: str, jobs: list[dict[str, Any]]) -> int:
    settings = get_settings()
    ctx = _ctx(batch_dir, settings)
    with _store(settings) as store:
        for job in jobs:
            outcome: Any
            try:
                outcome = steps.run_page(ctx, job["file_id"], job["rel_path"], FileKind(job["kind"]), job["page_no"])
            except Exception as e:  # a broken page quarantines its file, never the batch
                outcome = e
            steps.save_page_outcome(store, ctx, job["file_id"], job["page_no"], outcome)
    return len(jobs)


@fail_fast
def assemble_documents(batch_dir: str) -> int:
    settings = get_settings()
    ctx = _ctx(batch_dir, settings)
    n = 0
    with _store(settings) as store:
        for source in steps.files_ready_to_assemble(store, ctx):
            outcome: Any
            try:
                outcome = steps.run_assemble(ctx, source, store.pages(source.file_id))
            except Exception as e:  # one bad file must not fail the batch
                outcome = e
            steps.save_assemble_outcome(store, ctx, source, outcome)
            n += 1
    return n


@fail_fast
def number_records(batch_dir: str, chunk_size: int = 8) -> list[list[str]]:
    settings = get_settings()
    ctx = _ctx(batch_dir, settings)
    with _store(settings) as store:
        records = steps.number_records(store, ctx)
        todo = steps.records_to_archive(store, records)
    return chunked([r.record_id for r, _doc in todo], chunk_size)


@fail_fast
def archive_records(batch_dir: str, record_ids: list[str]) -> int:
    settings = get_settings()
    ctx = _ctx(batch_dir, settings)
    with _store(settings) as store:
        pairs = [(r, store.get_document(r.doc_id)) for r in map(store.get_record, record_ids) if r is not None]
        found = [(r, d) for r, d in pairs if d is not None]
        doc_pages = steps.pages_by_document(store, [d for _r, d in found])
        for record, doc in found:
            outcome: Any
            try:
                outcome = steps.run_archive(ctx, record, doc, doc_pages[doc.doc_id])
            except Exception as e:  # the record goes to review with the reason
                outcome = e
            steps.save_archive_outcome(store, record, outcome)
    return len(record_ids)


@fail_fast
def finish_batch(batch_dir: str) -> dict[str, Any]:
    """Index, queue reviews and return the summary as JSON."""
    settings = get_settings()
    ctx = _ctx(batch_dir, settings)
    with _store(settings) as store:
        steps.index_batch(store, settings, ctx)
        steps.queue_reviews(store, ctx)
        plan = steps.BatchPlan(context=ctx, files=0, total_pages=0, page_jobs=[], skipped=[])
        return steps.summarize(store, ctx, plan, 0.0).model_dump(mode="json")


@fail_fast
def drop_folder_for(ds: str) -> str:
    """The counter scans of day `ds` (YYYY-MM-DD); an empty folder is made so a quiet day is a no-op."""
    try:
        day = date.fromisoformat(ds)
    except ValueError as e:
        raise ConfigError(f"{ds!r} is not a day (YYYY-MM-DD); the nightly DAG needs a run with a logical date") from e
    folder = (get_settings().drop_dir / day.isoformat()).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)
