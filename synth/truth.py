"""The ground truth a synthetic batch is written with (`ground_truth.json`).

Evaluation reads this file back, so its shape is a contract: add fields, never rename them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

GENERATOR_VERSION = "1.3"  # 1.1: separator sheets, person-table rows; 1.2: continuation sheets (续表); 1.3: ID
# numbers issued under codes newer than the birth year or unknown to every table
TRUTH_FILE = "ground_truth.json"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PageTruth(_Model):
    kind: Literal["form", "continuation", "attachment", "blank", "separator"] = Field(
        description="continuation: a further sheet of the form's person table (续表), part of the same document"
    )
    rotation: Literal[0, 90, 180, 270] = Field(
        description="clockwise rotation applied to the scan; turning the page back needs the opposite"
    )
    skew_deg: float = Field(description="skew applied before the rotation, degrees, positive = clockwise")
    dpi: int = Field(description="true resolution of the stored image")
    mode: Literal["color", "gray", "bitonal"] = "color"


class DocumentTruth(_Model):
    """One 件. Page numbers count every page of the file, separator sheets included; a separator sheet
    belongs to no document, so a document's range never covers one."""

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
    rows: list[dict[str, str]] = Field(
        default=[],
        description="person-table rows, top to bottom (key → normalised value, blank cells absent); "
        "empty for forms without a person table",
    )


class SeparatorTruth(_Model):
    """A vendor's separator sheet between documents: a page of the file that is part of no document."""

    source_file: str
    page_no: int = Field(ge=1, description="1-based within source_file")
    symbol: Literal["qr", "patch_t"] = Field(description="QR code with a DANGAN-SEP payload, or Kodak patch T")
    page: PageTruth


class GroundTruth(_Model):
    seed: int
    generator_version: str = GENERATOR_VERSION
    profile: Literal["box", "counter", "mixed"] = "mixed"
    documents: list[DocumentTruth] = []
    separators: list[SeparatorTruth] = []

    def files(self) -> dict[str, int]:
        """Source file → page count, as the documents and separator sheets lay them out."""
        counts: dict[str, int] = {}
        for doc in self.documents:
            counts[doc.source_file] = max(counts.get(doc.source_file, 0), doc.last_page)
        for sep in self.separators:
            counts[sep.source_file] = max(counts.get(sep.source_file, 0), sep.page_no)
        return counts
