"""The delivery package's rules as data (`schemas/delivery/package.yaml`), validated when loaded."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

import schemas
from pipeline.errors import ConfigError

SPEC_FILE = Path(schemas.__file__).resolve().parent / "delivery" / "package.yaml"
SUPPORTED_VERSION = 1


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Spec):
    header: str
    source: str = Field(description="attribute of the row model the cell is filled from")
    width: int = Field(ge=4, le=100)
    domain: bool = Field(default=False, description="a column of the domain, beyond the standard's own")


class SheetSpec(_Spec):
    name: str
    standard: str
    per: Literal["record", "volume"]
    columns: tuple[ColumnSpec, ...]

    @model_validator(mode="after")
    def _unique_headers(self) -> SheetSpec:
        headers = [c.header for c in self.columns]
        if len(set(headers)) != len(headers):
            raise ValueError(f"sheet {self.name}: a column header is repeated")
        return self


class PackageSpec(_Spec):
    version: int
    archive_code_pattern: str
    record_path: str
    catalogue_dir: str
    evidence_dir: str
    min_dpi: int = Field(ge=72)
    sample_share: float = Field(gt=0.0, le=1.0)
    sheets: tuple[SheetSpec, ...]
    evidence_sheets: tuple[SheetSpec, ...]
    dictionary: dict[str, str]

    @field_validator("version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if v != SUPPORTED_VERSION:
            raise ValueError(f"version {v} is not supported (this program reads version {SUPPORTED_VERSION})")
        return v

    @field_validator("archive_code_pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        re.compile(v)
        return v

    @model_validator(mode="after")
    def _dictionary_covers_columns(self) -> PackageSpec:
        headers = {c.header for s in (*self.sheets, *self.evidence_sheets) for c in s.columns}
        missing = sorted(headers - set(self.dictionary))
        if missing:
            raise ValueError(f"the data dictionary does not explain: {', '.join(missing)}")
        return self

    def sheet(self, name: str) -> SheetSpec:
        for s in (*self.sheets, *self.evidence_sheets):
            if s.name == name:
                return s
        raise KeyError(name)


def load_spec(path: Path = SPEC_FILE) -> PackageSpec:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return PackageSpec.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as e:
        raise ConfigError(f"{path}: the delivery package rules cannot be used ({e})") from e


@lru_cache(maxsize=1)
def package_spec() -> PackageSpec:
    return load_spec()
