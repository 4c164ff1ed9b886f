"""Domain models that pass between the stages.

Pure pydantic: no I/O, no ORM and no Airflow here, so any stage (or an Airflow task
over XCom) can exchange them as JSON.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Box = tuple[int, int, int, int]
"""(x0, y0, x1, y1) in pixels of the 300-DPI working page image."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FileKind(StrEnum):
    PDF = "pdf"
    TIFF = "tiff"
    JPEG = "jpeg"
    PNG = "png"
    JP2 = "jp2"


class FileStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    QUARANTINED = "quarantined"
    """The file itself is bad: a person must look at it; re-runs leave it alone."""
    FAILED = "failed"
    """Our side failed (configuration, a crash): the file is fine and the next run retries it."""
    DUPLICATE = "duplicate"
    """The same bytes as a file recorded before (`duplicate_of`): recorded once, never processed twice."""


class FieldStatus(StrEnum):
    ACCEPTED = "accepted"
    REVIEW = "review"
    MISSING = "missing"
    CORRECTED = "corrected"
    CONFIRMED = "confirmed"


class DocumentStatus(StrEnum):
    ACCEPTED = "accepted"
    REVIEW = "review"


class PageKind(StrEnum):
    FORM = "form"
    ATTACHMENT = "attachment"
    CONTINUATION = "continuation"  # 续表: a further sheet of the form before it
    BLANK = "blank"
    SEPARATOR = "separator"


class BatchManifest(_Model):
    """Optional `manifest.json` a vendor puts beside the scans."""

    box_no: str | None = None
    fonds_no: str | None = Field(default=None, description="全宗号")
    year: int | None = None
    operator: str | None = Field(default=None, description="扫描人")
    handler: str | None = Field(default=None, description="业务办理人")
    scan_date: date | None = None
    volume_no: int | None = Field(default=None, description="卷号; defaults to 1")


class Batch(_Model):
    batch_id: str
    root: str
    manifest: BatchManifest = BatchManifest()
    created_at: datetime


class SkippedEntry(_Model):
    """An entry of the batch folder that was not taken as a scan, or a bad row of a vendor's manifest."""

    rel_path: str = Field(description="path relative to the batch folder, in the escaped form of names")
    row: int | None = Field(default=None, description="the manifest row (1 = the header row)")
    reason: str


class BatchRun(_Model):
    """One run over a batch (embedded, or one Airflow DAG run): what its summary is made from."""

    run_id: str = Field(description="the Airflow run id, or a fresh id for an embedded run")
    batch_id: str
    started_at: datetime
    finished_at: datetime | None = None
    pages_before: int = Field(ge=0, description="pages of the batch already in the catalogue when the run began")
    skipped: list[SkippedEntry] = Field(
        default=[], description="entries of the batch folder not taken as scans, and bad manifest rows, with reasons"
    )

    @field_validator("skipped", mode="before")
    @classmethod
    def _named_entries(cls, value: object) -> object:
        # Runs recorded before reasons were kept hold bare names: every one of them was "not a scan".
        if isinstance(value, list):
            return [{"rel_path": v, "reason": "not a scan"} if isinstance(v, str) else v for v in value]
        return value


class SourceFile(_Model):
    file_id: str = Field(description="hash of batch, relative path and content; stable across re-runs")
    batch_id: str
    rel_path: str = Field(
        description="path relative to the batch folder, forward slashes; names are bytes, kept in the lossless "
        "escaped form of pipeline.ingest.names (undecodable bytes as \\xHH)"
    )
    kind: FileKind | None = None
    size: int
    sha256: str
    page_count: int = 0
    status: FileStatus = FileStatus.PENDING
    error: str | None = None
    duplicate_of: str | None = Field(default=None, description="file_id of the file with the same bytes, kept")
    note: str | None = Field(
        default=None, description="what a person should know of a file taken in (active content of a PDF …)"
    )


class PageRef(_Model):
    """A page of a source file and where its working image lives."""

    file_id: str
    rel_path: str
    page_no: int = Field(ge=1, description="1-based within the source file")
    image_path: str = Field(description="working copy: oriented, deskewed, 300 DPI, PNG")
    source_dpi: float
    width: int
    height: int


class Word(_Model):
    text: str
    box: Box
    confidence: float = Field(ge=0.0, le=1.0)


class OcrPage(_Model):
    engine: str
    engine_version: str
    width: int
    height: int
    dpi: int = 300
    words: list[Word] = []

    @property
    def text(self) -> str:
        return "\n".join(w.text for w in self.words)


class PreprocessInfo(_Model):
    rotation: Literal[0, 90, 180, 270] = 0
    skew_degrees: float = 0.0
    is_blank: bool = False
    upsampled_from_dpi: float | None = None


class PageResult(_Model):
    """Everything the page-level stages learned about one page."""

    page: PageRef
    preprocess: PreprocessInfo
    ocr: OcrPage
    kind: PageKind = PageKind.FORM
    seconds_ocr: float = 0.0
    seconds_total: float = 0.0
    finished_at: datetime | None = Field(default=None, description="when the page's work ended (run reports)")


class Classification(_Model):
    label: str | None = Field(description="registry form id, or None when unknown")
    confidence: float = Field(ge=0.0, le=1.0)
    model_version: str


class CheckName(StrEnum):
    VALUE = "value"  # the kind's own check: GB 11643, a real date, one of the choices …
    AS_PRINTED = "as_printed"  # read without repairing an OCR confusion
    ID_BIRTH_DATE = "id_birth_date"  # the birth date printed agrees with the one in the ID number
    ID_SEX = "id_sex"  # the sex printed agrees with the one in the ID number
    DATE_ORDER = "date_order"  # birth, work start and retirement come in this order
    ID_AREA = "id_area"  # the ID number's area code is in GB/T 2260 (any period); unknown is a warning only


class CheckOutcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"


class CheckVerdict(_Model):
    """What one check found about a field. Checks never change a confidence: the calibration weighs them."""

    check: CheckName
    outcome: CheckOutcome
    reason: str | None = Field(default=None, description="why it failed or could not be applied")


class ExtractedField(_Model):
    key: str = Field(description="registry field key, e.g. id_number, name, form_date")
    label: str = Field(description="the label printed on the form")
    value: str | None = None
    normalized: str | None = Field(default=None, description="canonical form: ISO date, upper-case ID …")
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    page_no: int | None = Field(default=None, description="1-based page within the document")
    box: Box | None = None
    status: FieldStatus = FieldStatus.REVIEW
    reasons: list[str] = []
    checks: list[CheckVerdict] = Field(default=[], description="the verdicts of the checks the value went through")
    features: dict[str, float | str] = Field(
        default={},
        description="what the confidence was computed from (raw_confidence, validator, cross_check, "
        "label_score …); the extractor may fill label_score, the decide stage fills the rest",
    )


class Document(_Model):
    """A 件: a main form and its attachments, a contiguous page run of one source file."""

    doc_id: str
    batch_id: str
    file_id: str
    rel_path: str
    first_page: int = Field(ge=1)
    last_page: int = Field(ge=1)
    page_kinds: list[PageKind] = []
    classification: Classification | None = None
    form_title: str | None = None
    fields: list[ExtractedField] = []
    table_rows: list[list[ExtractedField]] = Field(
        default=[],
        description="rows of the form's person table (参保单位人员增加减少表), top to bottom; "
        "the document's own person fields mirror the first row",
    )
    status: DocumentStatus = DocumentStatus.REVIEW
    review_reasons: list[str] = []


class Retention(StrEnum):
    PERMANENT = "永久"
    Y100 = "100年"
    Y50 = "50年"
    Y30 = "30年"
    Y10 = "10年"


class ArchiveRecord(_Model):
    record_id: str
    doc_id: str
    archive_no: str = Field(description="档案编号 年度-业务类型-卷号-件号")
    person_id: str | None = Field(default=None, description="参保人ID (公民身份号码)")
    title: str = Field(description="材料名称")
    form_date: date | None = Field(default=None, description="形成日期")
    scan_date: date | None = Field(default=None, description="扫描日期")
    scanner: str | None = Field(default=None, description="扫描人")
    handler: str | None = Field(default=None, description="业务办理人")
    remarks: str | None = Field(default=None, description="备注")
    category: str | None = None
    insurance_type: str | None = Field(default=None, description="险种")
    business_step: str | None = Field(default=None, description="业务环节")
    retention: Retention | None = None
    destroy_after: date | None = Field(default=None, description="None for 永久")
    pdfa_path: str | None = None
    file_name: str | None = None
    sha256: str | None = Field(default=None, description="fixity hash of the PDF/A file")
    destroyed_on: date | None = Field(default=None, description="销毁日期: files removed, the entry kept for ever")


class QcTask(_Model):
    task_id: str
    doc_id: str
    reasons: list[str]
    fields: list[str] = Field(default=[], description="keys of the fields that need a look")
    audit_sample: bool = False
    status: Literal["open", "claimed", "done"] = "open"
    claimed_by: str | None = None
    created_at: datetime
    completed_at: datetime | None = None


class AuditEvent(_Model):
    at: datetime
    actor: str
    action: str
    record_id: str | None = None
    doc_id: str | None = None
    field: str | None = None
    old: str | None = None
    new: str | None = None
    why: str | None = None
    client: str | None = Field(default=None, description="the client address of a person's request")
