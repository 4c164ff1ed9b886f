"""The shape of the form registry (the data itself lives in schemas/registry/*.yaml).

The registry is the catalogue of seed 001 篇四: 附件一 归档范围 (which forms belong to which
business item, 主件 and 附件) and 附件二 保管期限表 (retention per item).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.models import Retention


class FieldKind(StrEnum):
    ID_NUMBER = "id_number"  # 公民身份号码, GB 11643
    UNIT_CODE = "unit_code"  # 统一社会信用代码, GB 32100
    NAME = "name"  # person name, Han or minority (with ·)
    DATE = "date"
    AMOUNT = "amount"
    PHONE = "phone"
    SEX = "sex"
    TEXT = "text"
    CHOICE = "choice"  # one of `choices`
    ORG_NAME = "org_name"  # 单位名称: ends in an organisational form (有限公司, 厂, 局 …), see forms.yaml


class FieldSpec(BaseModel):
    """A field printed on a form: the label a person reads and the key software uses."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(description="stable key: id_number, name, unit_name, unit_code, form_date, …")
    label: str = Field(description="the label as printed, e.g. 公民身份号码")
    synonyms: list[str] = Field(default=[], description="other printed labels for the same field")
    kind: FieldKind = FieldKind.TEXT
    required: bool = False
    choices: list[str] = []


SEQ_KEY = "seq"
"""The key of a person table's 序号 column: a row number printed before the fields, not a field itself."""


class FormSpec(BaseModel):
    """One form (or attachment type) of the catalogue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    form_id: str = Field(description="stable ascii id, e.g. personal_registration")
    title: str = Field(description="the registry's base title, e.g. 个人注册登记表")
    variants: list[str] = Field(default=[], description="title variants seen on real forms")
    role: Literal["main", "attachment"] = Field(description="main (主件) or attachment (附件)")
    fields: list[FieldSpec] = []
    person_table: list[str] = Field(
        default=[],
        description="keys of the fields printed as columns of a table of people (one per row), in printed "
        "order; on the document they mirror the first row. Empty: the form has no such table",
    )

    def table_columns(self) -> list[FieldSpec]:
        """The person table's columns as field specs, in printed order (empty: no table)."""
        specs = {s.key: s for s in self.fields}
        return [specs[k] for k in self.person_table]


class SeparatorSpec(BaseModel):
    """What marks a vendor's separator sheet: a QR/barcode payload or a Kodak patch code (separator_sheets.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    payload: str = Field(min_length=1, description="QR/barcode text; a payload may go on after a slash")
    patch_narrow_mm: float = Field(gt=0, description="width of a narrow patch-code bar, and of the spaces")
    patch_wide_mm: float = Field(gt=0, description="width of a wide patch-code bar")
    patch_codes: dict[str, str] = Field(description="bar pattern (W wide, N narrow, across the bars) → patch name")
    separating_patches: list[str] = Field(description="names of the patches that mark a new document")

    def pattern(self, name: str) -> str:
        """The bar pattern of the patch called `name` (KeyError if there is none)."""
        try:
            return next(p for p, n in self.patch_codes.items() if n == name)
        except StopIteration:
            raise KeyError(name) from None


class PersonTableWords(BaseModel):
    """The words that frame every person table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    row_number_labels: list[str] = Field(min_length=1, description="labels of the row-number column: 序号")
    end_words: list[str] = Field(min_length=1, description="words of the lines where the rows end: 备注, 经办人 …")


class FutureDates(BaseModel):
    """Date fields whose value may lie ahead of the form, and how far."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keys: list[str] = []
    years: int = Field(default=1, ge=1, le=100)


class BusinessItem(BaseModel):
    """A business item of 附件一/附件二 with its forms and retention."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item_id: str
    name: str = Field(description="e.g. 个人参保登记")
    category: str = Field(description="one of the ten categories, e.g. 社会保险管理类")
    insurance_type: str = Field(description="险种: 养老/医疗/失业/工伤/生育/综合")
    business_step: str = Field(description="业务环节: 登记/征缴/待遇/转移/稽核/结算/统计 …")
    business_type: str = Field(description="业务类型 used in archive numbers and file names, e.g. 参保登记")
    retention: Retention
    accounting_rules: bool = Field(default=False, description="kept under 《会计档案管理办法》")
    main_forms: list[str] = Field(default=[], description="form_ids of 主件")
    attachment_forms: list[str] = Field(default=[], description="form_ids of 附件")
