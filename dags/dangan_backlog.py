"""Backlog batches: triggered with {"batch_dir": "/path/to/batch"}; fans out over page and record chunks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Param, dag, task

DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(minutes=1)}
# A re-run maps over nothing (every page already recognised); the steps after it must still run.
AFTER_MAPPED = "none_failed"


@dag(
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["dangan", "backlog"],
    default_args=DEFAULT_ARGS,
    params={"batch_dir": Param("", type="string", description="the batch folder, as the workers see it")},
    max_active_tasks=32,
)
def dangan_backlog() -> None:
    @task
    def batch_folder(params: dict[str, Any] | None = None) -> str:
        from pipeline.tasks import batch_folder as run

        return run(str((params or {}).get("batch_dir", "")))

    @task
    def plan_pages(batch_dir: str) -> list[list[dict[str, Any]]]:
        from pipeline.tasks import plan_pages as run

        return run(batch_dir)

    @task(pool="ocr")
    def recognise_pages(batch_dir: str, jobs: list[dict[str, Any]]) -> int:
        from pipeline.tasks import recognise_pages as run

        return run(batch_dir, jobs)

    @task(trigger_rule=AFTER_MAPPED)
    def assemble_documents(batch_dir: str) -> int:
        from pipeline.tasks import assemble_documents as run

        return run(batch_dir)

    @task
    def number_records(batch_dir: str) -> list[list[str]]:
        from pipeline.tasks import number_records as run

        return run(batch_dir)

    @task(pool="ocr")
    def archive_records(batch_dir: str, record_ids: list[str]) -> int:
        from pipeline.tasks import archive_records as run

        return run(batch_dir, record_ids)

    @task(trigger_rule=AFTER_MAPPED)
    def finish_batch(batch_dir: str) -> dict[str, Any]:
        from pipeline.tasks import finish_batch as run

        return run(batch_dir)

    folder: Any = batch_folder()  # an XComArg here; each task receives the str at run time
    pages = recognise_pages.partial(batch_dir=folder).expand(jobs=plan_pages(folder))
    numbered = number_records(folder)
    pages >> assemble_documents(folder) >> numbered
    archive_records.partial(batch_dir=folder).expand(record_ids=numbered) >> finish_batch(folder)


dangan_backlog()
