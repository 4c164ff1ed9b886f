"""The nightly counter-scan run's day: the archive's local date of the run, not UTC's.

Counter staff put the day's scans in `<drop_dir>/<YYYY-MM-DD>/`, named by the date on their wall
(Asia/Shanghai by default). The DAG fires at `nightly.cron` in that zone; its logical date is the
moment it fires, and the night it takes is that moment's local date (22:30 in Shanghai is 14:30 UTC
the same day; a run at 00:30 there is still the day before in UTC). Nights from `first_night` on
that no run took (the scheduler was down) are caught up, each with its own folder. The folder is made
when missing, so a quiet night is a run with nothing to do; a night run twice finds nothing new.

Light on purpose: the DAG file imports this module at parse time (settings only, no stages).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from pipeline.errors import ConfigError
from pipeline.settings import NightlySettings, Settings


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


class NightSchedule(BaseModel):
    """What the DAG's timetable is made of: the cron in the archive's zone, from the first night's midnight."""

    model_config = ConfigDict(frozen=True)

    cron: str
    timezone: str
    start: datetime


def night_schedule(nightly: NightlySettings) -> NightSchedule:
    zone = ZoneInfo(nightly.timezone)
    start = datetime.combine(nightly.first_night, time(0, 0), tzinfo=zone)
    return NightSchedule(cron=nightly.cron, timezone=nightly.timezone, start=start)


def run_time(nightly: NightlySettings, night: date) -> datetime:
    """When the run of `night` fires (aware, in the archive's zone)."""
    return datetime.combine(night, nightly.run_at, tzinfo=ZoneInfo(nightly.timezone))


def nights_due(nightly: NightlySettings, now: datetime) -> list[date]:
    """Every night from the first one whose run time has come by `now`, oldest first: what a scheduler
    that was down since the first night catches up (the DAG's timetable fires for exactly these)."""
    if now.tzinfo is None:
        raise ConfigError(f"{now.isoformat()}: no time zone; cannot tell which nights are due")
    nights: list[date] = []
    night = nightly.first_night
    while run_time(nightly, night) <= now:
        nights.append(night)
        night += timedelta(days=1)
    return nights
