"""Each night: the counters' scans of the day, from DANGAN_DROP_DIR/<YYYY-MM-DD>/. Idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import dag, task

DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(minutes=5)}
# A quiet day or a re-run maps over nothing; the steps after it must still run.
AFTER_MAPPED = "none_failed"


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

    folder: Any = day_folder()  # an XComArg here; each task receives the str at run time
    pages = recognise_pages.partial(batch_dir=folder).expand(jobs=plan_pages(folder))
    numbered = number_records(folder)
    pages >> assemble_documents(folder) >> numbered
    archive_records.partial(batch_dir=folder).expand(record_ids=numbered) >> finish_batch(folder)


dangan_counter_nightly()
