"""Catalogue rows of a delivery: one per record (件) and one per volume (卷), from the catalogue's own data.

Pure: the caller reads the catalogue and the PDF/A files; this module only arranges what they hold into
the rows the sheets, the XML catalogue and METS are written from, so all three say the same thing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from pipeline.identity import volume_of
from schemas.models import ArchiveRecord, Document, FieldStatus, QcTask, Retention

_RETENTION_ORDER = [Retention.PERMANENT, Retention.Y100, Retention.Y50, Retention.Y30, Retention.Y10]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeliveryRow(_Row):
    """One record as the catalogue sheets list it (归档文件目录 / 卷内目录 columns and the domain's)."""

    seq: int = Field(ge=1)
    record_id: str
    doc_id: str
    archive_no: str
    archive_code: str = Field(description="档号: 全宗号-archive_no")
    volume_code: str
    seq_in_volume: int = Field(ge=1)
    fonds_no: str
    year: int
    insurance_type: str
    business_step: str
    doc_no: str = ""
    responsible: str
    title: str
    date8: str = Field(description="形成日期 as YYYYMMDD, empty when unknown")
    secrecy: str = ""
    pages: int = Field(ge=0)
    page_span: str
    remarks: str = ""
    form_id: str = ""
    person_name: str = ""
    id_number: str = ""
    unit_name: str = ""
    unit_code: str = ""
    file_path: str = Field(description="the PDF/A's path inside the bag's data/ folder")
    sha256: str
    min_confidence: float | None = None
    reviewed_by: str = ""
    retention: str = ""
    form_date: date | None = None
    scan_date: date | None = None
    scanner: str = ""


class VolumeRow(_Row):
    """One volume (卷) as 案卷目录 and 备考表 list it."""

    seq: int = Field(ge=1)
    volume_code: str
    title: str
    year: int
    date_span: str
    items: int
    pages: int
    retention: str
    remarks: str = ""
    note: str
    compiled_by: str = ""
    checked_by: str = ""
    compiled_on: str


def _field(doc: Document, key: str) -> str:
    for f in doc.fields:
        if f.key == key and f.status is not FieldStatus.MISSING and (f.normalized or f.value):
            return str(f.normalized or f.value)
    return ""


def _min_confidence(doc: Document) -> float | None:
    values = [f.confidence for f in doc.fields if f.status is not FieldStatus.MISSING and (f.normalized or f.value)]
    return round(min(values), 4) if values else None


def _date8(d: date | None) -> str:
    return d.strftime("%Y%m%d") if d else ""


def record_path(pattern: str, *, fonds_no: str, year: int, insurance: str, step: str, archive_code: str) -> str:
    return pattern.format(
        fonds_no=fonds_no, year=year, insurance_type=insurance, business_step=step, archive_code=archive_code
    )


def build_rows(
    records: Iterable[ArchiveRecord],
    documents: dict[str, Document],
    done_tasks: dict[str, QcTask],
    *,
    fonds_no: str,
    path_pattern: str,
    pages_of: Callable[[ArchiveRecord], int],
) -> list[DeliveryRow]:
    """Rows in archive-number order; page numbers run on within each volume (卷内页号)."""
    rows: list[DeliveryRow] = []
    next_page: dict[str, int] = defaultdict(lambda: 1)
    in_volume: dict[str, int] = defaultdict(int)
    for rec in sorted(records, key=lambda r: r.archive_no):
        doc = documents[rec.doc_id]
        volume = volume_of(rec.archive_no)
        year = int(rec.archive_no.split("-", 1)[0])
        insurance = rec.insurance_type or "未分类"
        step = rec.business_step or "未分类"
        code = f"{fonds_no}-{rec.archive_no}"
        pages = pages_of(rec)
        first = next_page[volume]
        next_page[volume] = first + pages
        in_volume[volume] += 1
        task = done_tasks.get(rec.doc_id)
        person = _field(doc, "name")
        unit = _field(doc, "unit_name")
        rows.append(
            DeliveryRow(
                seq=len(rows) + 1,
                record_id=rec.record_id,
                doc_id=rec.doc_id,
                archive_no=rec.archive_no,
                archive_code=code,
                volume_code=f"{fonds_no}-{volume}",
                seq_in_volume=in_volume[volume],
                fonds_no=fonds_no,
                year=year,
                insurance_type=insurance,
                business_step=step,
                responsible=unit or person,
                title=rec.title,
                date8=_date8(rec.form_date),
                pages=pages,
                page_span=f"{first}-{first + pages - 1}" if pages else "",
                remarks=rec.remarks or "",
                form_id=doc.classification.label or "" if doc.classification else "",
                person_name=person,
                id_number=_field(doc, "id_number"),
                unit_name=unit,
                unit_code=_field(doc, "unit_code"),
                file_path=record_path(
                    path_pattern, fonds_no=fonds_no, year=year, insurance=insurance, step=step, archive_code=code
                ),
                sha256=rec.sha256 or "",
                min_confidence=_min_confidence(doc),
                reviewed_by=(task.claimed_by or "") if task else "",
                retention=rec.retention.value if rec.retention else "",
                form_date=rec.form_date,
                scan_date=rec.scan_date,
                scanner=rec.scanner or "",
            )
        )
    return rows


def _longest(retentions: Iterable[str]) -> str:
    present = set(retentions)
    return next((r.value for r in _RETENTION_ORDER if r.value in present), "")


def build_volumes(rows: list[DeliveryRow], *, compiled_on: date, corrections: dict[str, int]) -> list[VolumeRow]:
    """案卷目录 / 备考表 rows; `corrections` counts the corrected fields per doc_id."""
    by_volume: dict[str, list[DeliveryRow]] = defaultdict(list)
    for row in rows:
        by_volume[row.volume_code].append(row)
    volumes: list[VolumeRow] = []
    for code in sorted(by_volume):
        items = by_volume[code]
        dates = sorted(r.date8 for r in items if r.date8)
        reviewed = sorted({r.reviewed_by for r in items if r.reviewed_by})
        n_corrected = sum(corrections.get(r.doc_id, 0) for r in items)
        pages = sum(r.pages for r in items)
        first = items[0]
        note = (
            f"本卷共{len(items)}件{pages}页；人工复核{sum(1 for r in items if r.reviewed_by)}件，"
            f"更正字段{n_corrected}处。"
        )
        volumes.append(
            VolumeRow(
                seq=len(volumes) + 1,
                volume_code=code,
                title=f"{first.year}年社会保险业务档案（{first.insurance_type}—{first.business_step}）",
                year=first.year,
                date_span=f"{dates[0]}-{dates[-1]}" if dates else "",
                items=len(items),
                pages=pages,
                retention=_longest(r.retention for r in items),
                note=note,
                compiled_by=next((r.scanner for r in items if r.scanner), ""),
                checked_by="、".join(reviewed),
                compiled_on=compiled_on.strftime("%Y%m%d"),
            )
        )
    return volumes
