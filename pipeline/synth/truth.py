"""The ground truth a synthetic batch is written with (`ground_truth.json`).

Evaluation reads this file back, so its shape is a contract: add fields, never rename them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

GENERATOR_VERSION = "1.0"
TRUTH_FILE = "ground_truth.json"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PageTruth(_Model):
    kind: Literal["form", "attachment", "blank"]
    rotation: Literal[0, 90, 180, 270] = Field(
        description="clockwise rotation applied to the scan; turning the page back needs the opposite"
    )
    skew_deg: float = Field(description="skew applied before the rotation, degrees, positive = clockwise")
    dpi: int = Field(description="true resolution of the stored image")
    mode: Literal["color", "gray", "bitonal"] = "color"


class DocumentTruth(_Model):
    doc_index: int = Field(ge=0)
    source_file: str = Field(description="relative to the batch folder, forward slashes")
    first_page: int = Field(ge=1, description="1-based within source_file")
    last_page: int = Field(ge=1)
    form_id: str
    form_title: str = Field(description="the registry's base title")
    title_printed: str = Field(description="the title as printed on the page")
    fields: dict[str, str] = Field(
        description="key → normalised value (ISO dates, upper-case IDs, amounts as 0.00); blank fields absent"
    )
    pages: list[PageTruth]


class GroundTruth(_Model):
    seed: int
    generator_version: str = GENERATOR_VERSION
    profile: Literal["box", "counter", "mixed"] = "mixed"
    documents: list[DocumentTruth] = []

    def files(self) -> dict[str, int]:
        """Source file → page count, as the documents lay them out."""
        counts: dict[str, int] = {}
        for doc in self.documents:
            counts[doc.source_file] = max(counts.get(doc.source_file, 0), doc.last_page)
        return counts
