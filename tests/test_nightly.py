"""The nightly run's drop folder is named by the archive's local day of the run, not by UTC's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.errors import ConfigError
from pipeline.nightly import drop_folder, local_day, parse_run_time
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
