"""The ingest stage's limits and manifest conventions as data (`schemas/ingest/rules.yaml`)."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

import schemas
from pipeline.errors import ConfigError

RULES_FILE = Path(schemas.__file__).resolve().parent / "ingest" / "rules.yaml"
SUPPORTED_VERSION = 1


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PageLimits(_Rules):
    min_side_px: int = Field(ge=1)
    min_side_mm: float = Field(gt=0.0)
    max_pixels: int = Field(ge=1_000_000)
    max_pdf_side_pt: float = Field(gt=0.0)
    max_per_file: int = Field(ge=1)


class ManifestColumns(_Rules):
    path: tuple[str, ...] = Field(min_length=1)
    box_no: tuple[str, ...] = ()
    scan_date: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    operator: tuple[str, ...] = ()


class ManifestRules(_Rules):
    suffixes: tuple[str, ...] = Field(min_length=1)
    columns: ManifestColumns
    box_no_pattern: str
    earliest_scan_date: date
    max_rows: int = Field(ge=1)

    @field_validator("box_no_pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        re.compile(v)
        return v

    @field_validator("suffixes")
    @classmethod
    def _dotted(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if any(not s.startswith(".") or s != s.lower() for s in v):
            raise ValueError("suffixes are lower case and start with a dot")
        return v


class IngestRules(_Rules):
    version: int
    pages: PageLimits
    manifest: ManifestRules

    @field_validator("version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if v != SUPPORTED_VERSION:
            raise ValueError(f"version {v} is not supported (this program reads version {SUPPORTED_VERSION})")
        return v


def load_rules(path: Path = RULES_FILE) -> IngestRules:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return IngestRules.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as e:
        raise ConfigError(f"{path}: the ingest rules are not valid ({e}); fix the file") from e


@lru_cache(maxsize=1)
def ingest_rules() -> IngestRules:
    """The shipped rules, read and validated once per process (a run reads them when it starts)."""
    return load_rules()
