"""The nightly counter-scan run's day: the archive's local date of the run, not UTC's.

Counter staff put the day's scans in `<drop_dir>/<YYYY-MM-DD>/`, named by the date on their wall
(Asia/Shanghai by default); a run at 22:30 there is 14:30 UTC, and one at 00:30 is still the day
before in UTC. The folder is made when missing, so a quiet day is a run with nothing to do.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.errors import ConfigError
from pipeline.settings import Settings


def local_day(when: datetime, timezone: str) -> date:
    """The calendar day `when` falls on in `timezone`; a naive `when` is refused (it has no day)."""
    if when.tzinfo is None:
        raise ConfigError(f"{when.isoformat()}: the run's time has no time zone; cannot tell its local day")
    return when.astimezone(ZoneInfo(timezone)).date()


def parse_run_time(value: str) -> datetime:
    """An Airflow logical date as the task receives it (ISO 8601 with offset)."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError as e:
        raise ConfigError(f"{value!r} is not a time (ISO 8601); the nightly DAG needs a run with a logical date") from e
    if when.tzinfo is None:
        raise ConfigError(f"{value!r}: the run's time has no time zone; cannot tell its local day")
    return when


def drop_folder(settings: Settings, when: datetime) -> Path:
    """`<drop_dir>/<local day of when>`, made if missing."""
    folder = (settings.drop_dir / local_day(when, settings.nightly.timezone).isoformat()).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder
