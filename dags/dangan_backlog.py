"""Backlog batches: triggered with {"batch_dir": "/path/to/batch"}; fans out over page and record chunks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Param, dag, task
from dangan_tasks import ingest_folder

from pipeline.settings import get_settings

DEFAULT_ARGS = {"retries": 2, "retry_delay": get_settings().retry_delay(timedelta(minutes=1))}


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

    ingest_folder(batch_folder())


dangan_backlog()
