"""Backlog batches: triggered with {"batch_dir": "/path/to/batch"}; fans out over page chunks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import dag, task

DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(minutes=1)}


@dag(
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["dangan", "backlog"],
    default_args=DEFAULT_ARGS,
    params={"batch_dir": ""},
    max_active_tasks=32,
)
def dangan_backlog() -> None:
    @task
    def plan_pages(params: dict[str, Any] | None = None) -> list[list[dict[str, Any]]]:
        from pipeline.tasks import plan_pages as run

        assert params is not None and params["batch_dir"], "trigger with {'batch_dir': ...}"
        return run(params["batch_dir"])

    @task(pool="ocr")
    def recognise_pages(jobs: list[dict[str, Any]], params: dict[str, Any] | None = None) -> int:
        from pipeline.tasks import recognise_pages as run

        assert params is not None
        return run(params["batch_dir"], jobs)

    @task
    def assemble_documents(params: dict[str, Any] | None = None) -> int:
        from pipeline.tasks import assemble_documents as run

        assert params is not None
        return run(params["batch_dir"])

    @task
    def number_records(params: dict[str, Any] | None = None) -> list[list[str]]:
        from pipeline.tasks import number_records as run

        assert params is not None
        return run(params["batch_dir"])

    @task(pool="ocr")
    def archive_records(record_ids: list[str], params: dict[str, Any] | None = None) -> int:
        from pipeline.tasks import archive_records as run

        assert params is not None
        return run(params["batch_dir"], record_ids)

    @task
    def finish_batch(params: dict[str, Any] | None = None) -> dict[str, Any]:
        from pipeline.tasks import finish_batch as run

        assert params is not None
        return run(params["batch_dir"])

    pages = recognise_pages.expand(jobs=plan_pages())
    numbered = number_records()
    pages >> assemble_documents() >> numbered
    archive_records.expand(record_ids=numbered) >> finish_batch()


dangan_backlog()
