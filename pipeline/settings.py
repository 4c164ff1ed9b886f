"""All configuration, declared once (env prefix DANGAN_, nested with __)."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class OcrSettings(BaseModel):
    engine: Literal["rapidocr", "tesseract", "null"] = Field(
        default="rapidocr", description="recognition engine; rapidocr (PP-OCR) measured best on our forms"
    )
    tesseract_lang: str = Field(default="chi_sim", description="+eng garbles Chinese labels; keep it off")
    red_channel_grey: bool = Field(default=True, description="grey from the red channel: red seals vanish")
    external_engines: bool = Field(
        default=False, description="also load OCR engines from the dangan.ocr_engines entry points (plugins)"
    )


class DecideSettings(BaseModel):
    default_threshold: float = Field(
        default=0.80, ge=0.0, le=1.0, description="for raw confidences, when calibrated is off"
    )
    thresholds: dict[str, float] = Field(
        default_factory=dict,
        description="per field key, e.g. {'id_number': 0.9}; overrides the per-kind thresholds file",
    )
    audit_sample_rate: float = Field(default=0.05, ge=0.0, le=1.0)
    review_optional_fields: bool = Field(
        default=False,
        description="an optional field below its threshold also sends the document to review "
        "(off: it is only flagged on the field)",
    )
    calibrated: bool = Field(
        default=True,
        description="turn raw confidences into P(right) with the calibration file and compare them with "
        "the per-kind thresholds file; off only to collect training data",
    )
    calibration_file: Path | None = Field(
        default=None, description="default schemas/decide/calibration.json (bench/calibrate.py writes it)"
    )
    thresholds_file: Path | None = Field(
        default=None, description="default schemas/decide/thresholds.yaml (bench/calibrate.py writes it)"
    )


class ReviewSettings(BaseModel):
    host: str = Field(default="127.0.0.1", description="`dangan serve` listens here")
    port: int = Field(default=8000, ge=1, le=65535)
    secure_cookies: bool = Field(
        default=True, description="session cookie only over HTTPS (browsers count http://localhost as secure)"
    )
    session_idle_minutes: int = Field(default=30, ge=1, description="a session unused this long ends")
    session_max_hours: int = Field(default=12, ge=1, description="a session ends this long after login, used or not")
    login_max_failures: int = Field(default=5, ge=1, description="failed logins per account or address in the window")
    login_window_minutes: int = Field(default=15, ge=1, description="after which failed logins are forgiven")
    lease_minutes: int = Field(default=10, ge=1, description="a task not saved or heartbeaten this long goes back")
    postpone_minutes: int = Field(default=60, ge=1, description="a postponed task returns to the queue after this")


_DAILY_CRON = re.compile(r"^(\d{1,2}) (\d{1,2}) \* \* \*$")


class NightlySettings(BaseModel):
    """When the counter-scan DAG runs, in the archive's own time; its drop folders are named by that day."""

    timezone: str = Field(default="Asia/Shanghai", description="the archive's time zone (IANA name)")
    cron: str = Field(
        default="30 22 * * *", description="when the night's run starts, in that time zone: 'minute hour * * *'"
    )
    first_night: date = Field(
        default=date(2026, 12, 1),
        description="the first night of service: nights from here on that were missed are caught up",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"{value!r} is not a time zone name (e.g. Asia/Shanghai)") from e
        return value

    @field_validator("cron")
    @classmethod
    def _once_a_night(cls, value: str) -> str:
        # One run a night: each night's folder is taken by exactly one run, so catch-up is one run a night.
        match = _DAILY_CRON.match(value.strip())
        if match is None or int(match.group(1)) > 59 or int(match.group(2)) > 23:
            raise ValueError(f"{value!r}: the nightly run is once a day, 'minute hour * * *' (e.g. '30 22 * * *')")
        return value.strip()

    @property
    def run_at(self) -> time:
        minute, hour = self.cron.split()[:2]
        return time(int(hour), int(minute))


class ArchiveImageSettings(BaseModel):
    """How a corrected page is stored in the working folder and the PDF/A (see pipeline.archive.page_encoding).

    The qualities were chosen with bench/archive_size.py on development seeds: the lowest that the
    engine still reads as it reads the lossless page, for ~0.8 x the scans' bytes."""

    lossless: bool = Field(
        default=False, description="store every page as lossless PNG (the old way: ~8 x the scans' bytes)"
    )
    jpeg_quality_colour: int = Field(default=60, ge=1, le=100, description="JPEG quality of colour pages")
    jpeg_quality_grey: int = Field(default=60, ge=1, le=100, description="JPEG quality of grey pages")
    jpeg_optimize: bool = Field(
        default=True, description="optimised Huffman tables: the same pixels in ~20 % fewer bytes, ~0.03 s a page"
    )
    bitonal_share: float = Field(
        default=0.9,
        gt=0.0,
        le=1.0,
        description="a one-channel page with at least this share of pure black or white pixels was scanned "
        "bitonal and is stored as CCITT G4 (measured: bitonal scans ~0.97 after deskewing, grey scans < 0.03)",
    )
    bitonal_threshold: int = Field(
        default=128, ge=1, le=255, description="grey level from which a bitonal page's pixel is white"
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANGAN_", env_nested_delimiter="__", extra="ignore")

    home: Path = Field(default=Path("./dangan-data"), description="all state lives under this folder")
    db_url: str | None = Field(default=None, description="SQLAlchemy URL; default a SQLite file under home")
    workers: int = Field(default=0, ge=0, description="page worker processes; 0 = one per core")
    drop_dir: Path = Field(default=Path("./dangan-drop"), description="counter scans land in <drop_dir>/<YYYY-MM-DD>/")
    search_backend: Literal["sqlite", "elasticsearch"] = "sqlite"
    es_url: str = "http://localhost:9200"
    es_index: str = "dangan-records"
    ocr: OcrSettings = OcrSettings()
    decide: DecideSettings = DecideSettings()
    review: ReviewSettings = ReviewSettings()
    nightly: NightlySettings = NightlySettings()
    retry_delay_seconds: int | None = Field(
        default=None, ge=1, description="overrides the DAGs' retry delays (the real-stack tests use a few seconds)"
    )
    archive_images: ArchiveImageSettings = ArchiveImageSettings()

    def retry_delay(self, default: timedelta) -> timedelta:
        """A DAG's retry delay: `default` unless `retry_delay_seconds` overrides it."""
        return timedelta(seconds=self.retry_delay_seconds) if self.retry_delay_seconds else default

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{(self.home / 'catalogue.sqlite').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
