"""Each night at DANGAN_NIGHTLY__CRON in the archive's zone (DANGAN_NIGHTLY__TIMEZONE, Asia/Shanghai):
that night's counter scans from DANGAN_DROP_DIR/<local date>/. Missed nights since
DANGAN_NIGHTLY__FIRST_NIGHT are caught up, one run each; a night run twice changes nothing.

The timetable fires in the archive's zone, so its logical date is the local moment of the night's run;
`pipeline.nightly` turns it into the local date (see there). Settings are read at parse time: the
dag-processor needs the same DANGAN_NIGHTLY__* environment as the workers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronTriggerTimetable, dag, task
from dangan_tasks import ingest_folder

from pipeline.nightly import night_schedule
from pipeline.settings import get_settings

SETTINGS = get_settings()
NIGHTS = night_schedule(SETTINGS.nightly)


@dag(
    schedule=CronTriggerTimetable(NIGHTS.cron, timezone=NIGHTS.timezone),
    start_date=NIGHTS.start,
    catchup=True,
    tags=["dangan", "counter"],
    default_args={"retries": 2, "retry_delay": SETTINGS.retry_delay(timedelta(minutes=5))},
    max_active_runs=1,
)
def dangan_counter_nightly() -> None:
    @task
    def night_folder(logical_date: datetime | None = None) -> str:
        from pipeline.tasks import night_folder as run

        return run(logical_date.isoformat() if logical_date else "")

    ingest_folder(night_folder())


dangan_counter_nightly()
