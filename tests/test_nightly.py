"""The nightly run's drop folder is named by the archive's local day of the run, not by UTC's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.errors import ConfigError
from pipeline.nightly import drop_folder, local_day, night_schedule, nights_due, parse_run_time, run_time
from pipeline.settings import NightlySettings, Settings


@pytest.mark.parametrize(
    ("utc", "zone", "day"),
    [
        # 22:30 in Shanghai is 14:30 UTC: the same day.
        (datetime(2026, 3, 2, 14, 30, tzinfo=UTC), "Asia/Shanghai", date(2026, 3, 2)),
        # 00:30 in Shanghai is still yesterday in UTC: the folder is Shanghai's day.
        (datetime(2026, 3, 2, 16, 30, tzinfo=UTC), "Asia/Shanghai", date(2026, 3, 3)),
        (datetime(2026, 3, 2, 16, 30, tzinfo=UTC), "UTC", date(2026, 3, 2)),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), "Asia/Urumqi", date(2027, 1, 1)),
        (datetime(2026, 3, 2, 3, 0, tzinfo=UTC), "America/New_York", date(2026, 3, 1)),
    ],
)
def test_local_day(utc: datetime, zone: str, day: date) -> None:
    assert local_day(utc, zone) == day


def test_drop_folder_is_made_under_the_local_day(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", drop_dir=tmp_path / "drop")
    folder = drop_folder(settings, parse_run_time("2026-03-02T16:30:00+00:00"))
    assert folder == (tmp_path / "drop" / "2026-03-03").resolve()
    assert folder.is_dir()
    utc = settings.model_copy(update={"nightly": NightlySettings(timezone="UTC")})
    assert drop_folder(utc, parse_run_time("2026-03-02T16:30:00+00:00")).name == "2026-03-02"


@pytest.mark.parametrize("value", ["", "yesterday", "2026-03-02T22:30:00"])
def test_a_run_time_without_a_zone_is_refused(value: str) -> None:
    with pytest.raises(ConfigError):
        parse_run_time(value)
    with pytest.raises(ConfigError):
        local_day(datetime(2026, 3, 2, 22, 30), "Asia/Shanghai")


def test_settings_refuse_an_unknown_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANGAN_NIGHTLY__TIMEZONE", "Asia/Peking-ish")
    with pytest.raises(ValidationError, match="not a time zone"):
        Settings()
    monkeypatch.setenv("DANGAN_NIGHTLY__TIMEZONE", "Asia/Urumqi")
    monkeypatch.setenv("DANGAN_NIGHTLY__FIRST_NIGHT", "2026-11-30")
    assert Settings().nightly == NightlySettings(timezone="Asia/Urumqi", first_night=date(2026, 11, 30))


SHANGHAI = NightlySettings(timezone="Asia/Shanghai", cron="30 22 * * *", first_night=date(2026, 12, 1))


@pytest.mark.parametrize(
    ("now", "nights"),
    [
        (datetime(2026, 11, 30, 23, 0, tzinfo=UTC), []),
        # 22:29 in Shanghai on 1 December: the first night's run has not come yet.
        (datetime(2026, 12, 1, 14, 29, tzinfo=UTC), []),
        (datetime(2026, 12, 1, 14, 30, tzinfo=UTC), [date(2026, 12, 1)]),
        # The scheduler down from the 1st until 06:00 on the 4th in Shanghai: three nights to catch up.
        (datetime(2026, 12, 3, 22, 0, tzinfo=UTC), [date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)]),
    ],
)
def test_missed_nights_are_due_oldest_first(now: datetime, nights: list[date]) -> None:
    assert nights_due(SHANGHAI, now) == nights


@pytest.mark.parametrize(
    "nightly",
    [
        SHANGHAI,
        NightlySettings(timezone="Asia/Shanghai", cron="5 0 * * *", first_night=date(2026, 12, 1)),
        # Across both of New York's clock changes: a night is still one run, on its own day.
        NightlySettings(timezone="America/New_York", cron="30 1 * * *", first_night=date(2026, 3, 1)),
        NightlySettings(timezone="America/New_York", cron="30 23 * * *", first_night=date(2026, 10, 25)),
    ],
)
def test_each_due_night_takes_its_own_folder(tmp_path: Path, nightly: NightlySettings) -> None:
    """logical date (the run's moment, as Airflow passes it in UTC) -> local date -> that night's folder."""
    settings = Settings(home=tmp_path / "home", drop_dir=tmp_path / "drop", nightly=nightly)
    nights = nights_due(nightly, run_time(nightly, nightly.first_night + timedelta(days=40)))
    assert len(nights) == 41
    for night in nights:
        logical_date = run_time(nightly, night).astimezone(UTC).isoformat()
        assert drop_folder(settings, parse_run_time(logical_date)).name == night.isoformat()


def test_the_schedule_starts_at_the_first_nights_local_midnight() -> None:
    schedule = night_schedule(SHANGHAI)
    assert (schedule.cron, schedule.timezone) == ("30 22 * * *", "Asia/Shanghai")
    assert schedule.start == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize("cron", ["*/5 * * * *", "30 24 * * *", "60 22 * * *", "0 22 * * 1-5", "30 22 * *"])
def test_a_schedule_that_is_not_once_a_night_is_refused(cron: str) -> None:
    with pytest.raises(ValidationError, match="once a day"):
        NightlySettings(cron=cron)


def test_due_nights_need_a_zone() -> None:
    with pytest.raises(ConfigError):
        nights_due(SHANGHAI, datetime(2026, 12, 3, 22, 0))
