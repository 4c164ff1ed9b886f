"""Each night: re-verify the SHA-256 of a rolling share of the archive (every file within a week).

The task fails (and so alerts) when a file is changed, missing or unreadable; every check is recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import dag, task

# A seventh of the files each night: the whole archive is re-verified every week.
NIGHTLY_SHARE = 1 / 7


@dag(
    schedule="0 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["dangan", "preservation"],
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10)},
    max_active_runs=1,
)
def dangan_fixity_nightly() -> None:
    @task
    def verify_fixity() -> dict[str, Any]:
        from pipeline.tasks import verify_fixity as run

        return run(NIGHTLY_SHARE)

    verify_fixity()


dangan_fixity_nightly()
