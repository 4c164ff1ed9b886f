"""Legibility of an archived PDF/A: does the engine read from its pages what it read from the working pages?

A lossy archive encoding is only acceptable if nothing the catalogue holds becomes unreadable. The
archived file is opened as any scan would be (the ingest loader renders each page at its image's
resolution), each non-blank page is recognised again, the document's form is read again with the
same extractor, and the values are compared field by field with the document's catalogued ones.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from pipeline.archive.page_encoding import grey_if_grey
from pipeline.assemble import read_fields
from pipeline.ingest.sources import load_page
from pipeline.ocr.base import OcrEngine
from schemas.models import Document, ExtractedField, FileKind, PageKind
from schemas.registry_models import FormSpec


class FieldAgreement(BaseModel):
    """Field values read from the archived pages against those read from the working pages."""

    compared: int = Field(ge=0, description="fields that either reading found a value for")
    agreed: int = Field(ge=0)
    differing: list[str] = Field(default=[], description="keys (row.N.key for table cells) that differ")

    @property
    def rate(self) -> float:
        return self.agreed / self.compared if self.compared else 1.0

    def __add__(self, other: FieldAgreement) -> FieldAgreement:
        return FieldAgreement(
            compared=self.compared + other.compared,
            agreed=self.agreed + other.agreed,
            differing=self.differing + other.differing,
        )


def field_values(fields: list[ExtractedField], rows: list[list[ExtractedField]]) -> dict[str, str]:
    """Each field's value as the catalogue keeps it (the normalised one where there is one), by key."""
    values = {f.key: f.normalized or f.value for f in fields}
    for number, row in enumerate(rows, start=1):
        values.update({f"row.{number}.{f.key}": f.normalized or f.value for f in row})
    return {key: value for key, value in values.items() if value}


def compare_fields(working: dict[str, str], archived: dict[str, str]) -> FieldAgreement:
    keys = sorted(working.keys() | archived.keys())
    differing = [key for key in keys if working.get(key) != archived.get(key)]
    return FieldAgreement(compared=len(keys), agreed=len(keys) - len(differing), differing=differing)


def reread_document(pdf_path: Path, doc: Document, form: FormSpec, engine: OcrEngine) -> FieldAgreement:
    """Read `doc`'s form again from its archived file and compare with what the pipeline read."""
    pages = []
    for number, kind in enumerate(doc.page_kinds, start=1):
        if kind is PageKind.BLANK:
            continue
        image, _dpi = load_page(pdf_path, FileKind.PDF, number)
        pages.append((number, engine.recognize(grey_if_grey(image))))
    archived = field_values(*read_fields(form, pages))
    return compare_fields(field_values(doc.fields, doc.table_rows), archived)
