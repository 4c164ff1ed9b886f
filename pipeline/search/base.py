"""What every search backend indexes, what it answers, and the interface both backends share.

The catalogue database is the source of truth; an index only ever holds `SearchDoc`s built
from catalogue records, so it can be dropped and rebuilt at any time.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from schemas.models import ArchiveRecord, DocumentStatus

HIT_START = "【"
HIT_END = "】"
"""Plain-text marks around matched text in a snippet; plain text so a terminal shows it as is
and a web page escapes it like any other text."""

_ID_RE = re.compile(r"^\d{17}[\dX]$")
_YEAR_RE = re.compile(r"^\s*((?:19|20)\d{2})")


def normalize_id(value: str) -> str:
    """Canonical spelling of a 公民身份号码: no spaces, upper-case check character."""
    return re.sub(r"\s+", "", value).upper()


def is_id_number(value: str) -> bool:
    """True for an 18-character 公民身份号码 shape (checksum not required: a mistyped or
    mis-read number is still searched exactly as stored)."""
    return bool(_ID_RE.match(normalize_id(value)))


def mask_id(value: str) -> str:
    """An ID number safe for logs: first 6 and last 4 characters only."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


class SearchDoc(BaseModel):
    """One archive record as the search index sees it."""

    model_config = ConfigDict(extra="forbid")

    record_id: str
    doc_id: str
    archive_no: str
    form_id: str | None = None
    status: DocumentStatus
    title: str
    person_id: str | None = None
    id_numbers: list[str] = Field(default=[], description="every ID number of the record (person_id first), normalised")
    form_date: date | None = None
    year: int | None = None
    category: str | None = None
    insurance_type: str | None = None
    business_step: str | None = None
    handler: str | None = None
    scanner: str | None = None
    remarks: str | None = None
    fields: dict[str, str] = Field(default={}, description="extracted field values by key")
    text: str = Field(default="", description="the document's full OCR text")

    @classmethod
    def from_record(
        cls,
        record: ArchiveRecord,
        *,
        form_id: str | None,
        status: DocumentStatus,
        text: str,
        fields: Mapping[str, str | None],
    ) -> SearchDoc:
        values = {k: v.strip() for k, v in fields.items() if v is not None and v.strip()}
        person_id = normalize_id(record.person_id) if record.person_id else None
        ids: list[str] = [person_id] if person_id else []
        for value in values.values():
            candidate = normalize_id(value)
            if is_id_number(candidate) and candidate not in ids:
                ids.append(candidate)
        return cls(
            record_id=record.record_id,
            doc_id=record.doc_id,
            archive_no=record.archive_no,
            form_id=form_id,
            status=status,
            title=record.title,
            person_id=person_id,
            id_numbers=ids,
            form_date=record.form_date,
            year=_record_year(record, values),
            category=record.category,
            insurance_type=record.insurance_type,
            business_step=record.business_step,
            handler=record.handler,
            scanner=record.scanner,
            remarks=record.remarks,
            fields=values,
            text=text,
        )

    @property
    def fields_text(self) -> str:
        """Field values as one searchable line (names, unit names, numbers …)."""
        return " ".join(self.fields.values())

    @property
    def meta_text(self) -> str:
        """Catalogue metadata worth finding by text: archive number, 险种, 业务环节, people."""
        parts = [
            self.archive_no,
            self.form_id,
            self.category,
            self.insurance_type,
            self.business_step,
            self.handler,
            self.scanner,
            self.remarks,
        ]
        return " ".join(p for p in parts if p)


def _record_year(record: ArchiveRecord, fields: Mapping[str, str]) -> int | None:
    # The form's own date is the best evidence; the extracted 年度 next; the archive number's
    # leading 年度 last, since it is assigned at archiving and may be the archiving year.
    if record.form_date is not None:
        return record.form_date.year
    for source in (fields.get("year"), record.archive_no):
        match = _YEAR_RE.match(source or "")
        if match:
            return int(match.group(1))
    return None


class SearchHit(BaseModel):
    """One answer to a search; carries the full ID number (masking is for logs only)."""

    model_config = ConfigDict(extra="forbid")

    record_id: str
    archive_no: str
    title: str
    form_id: str | None = None
    person_id: str | None = None
    form_date: date | None = None
    score: float = 0.0
    snippet: str = ""


@dataclass(frozen=True)
class ParsedQuery:
    """A free-text query split into ID numbers (searched exactly) and text terms."""

    id_numbers: tuple[str, ...]
    terms: tuple[str, ...]


def parse_query(query: str | None) -> ParsedQuery:
    """Split on whitespace; a term shaped like an ID number becomes an exact ID filter."""
    ids: list[str] = []
    terms: list[str] = []
    for raw in (query or "").split():
        if is_id_number(raw):
            ids.append(normalize_id(raw))
        elif raw not in terms:
            terms.append(raw)
    return ParsedQuery(tuple(ids), tuple(terms))


class SearchBackend(ABC):
    """A rebuildable full-text index of archive records."""

    @abstractmethod
    def index(self, docs: Iterable[SearchDoc]) -> int:
        """Insert or replace each doc by record_id; returns how many were written."""

    @abstractmethod
    def delete(self, record_ids: Iterable[str]) -> int:
        """Remove records; ids not in the index are ignored. Returns how many were removed."""

    @abstractmethod
    def search(
        self,
        query: str | None = None,
        *,
        id_number: str | None = None,
        form: str | None = None,
        year: int | None = None,
        limit: int = 20,
    ) -> list[SearchHit]:
        """Best hits first. `form` matches a form id exactly or a title by substring."""

    @abstractmethod
    def clear(self) -> None:
        """Remove every record (before a rebuild)."""

    @abstractmethod
    def count(self) -> int:
        """How many records the index holds."""

    def close(self) -> None:  # noqa: B027 - optional hook: most backends hold nothing open
        """Release connections; the backend is not used afterwards."""
