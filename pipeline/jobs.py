"""One job model per step: what one item of work is, as small typed data.

Jobs carry ids and paths, never images or OCR results (those stay in the catalogue), so the
Airflow tasks can pass them over XCom as JSON and the embedded runner to its worker processes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from schemas.models import FileKind


class Job(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PageJob(Job):
    """Recognise one page of a source file."""

    file_id: str
    rel_path: str
    kind: FileKind
    page_no: int = Field(ge=1)


class FileJob(Job):
    """Assemble the recognised pages of one source file into documents."""

    file_id: str
    rel_path: str


class RecordJob(Job):
    """Write the PDF/A of one numbered record."""

    record_id: str


J = TypeVar("J", bound=Job)

JobJson = dict[str, Any]


def jobs_to_json(jobs: Iterable[Job]) -> list[JobJson]:
    """What an Airflow task returns: plain JSON objects, which any XCom backend stores."""
    return [job.model_dump(mode="json") for job in jobs]


def jobs_from_json(model: type[J], items: Sequence[JobJson]) -> list[J]:
    return [model.model_validate(item) for item in items]
