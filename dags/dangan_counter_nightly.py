"""Each night: the counters' scans of the day, from DANGAN_DROP_DIR/<YYYY-MM-DD>/. Idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task
from dangan_tasks import ingest_folder

DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(minutes=5)}


@dag(
    schedule="30 22 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["dangan", "counter"],
    default_args=DEFAULT_ARGS,
    max_active_runs=1,
)
def dangan_counter_nightly() -> None:
    @task
    def day_folder(ds: str | None = None) -> str:
        from pipeline.tasks import drop_folder_for

        return drop_folder_for(ds or "")

    ingest_folder(day_folder())


dangan_counter_nightly()
