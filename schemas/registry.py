"""The form registry: the catalogue of seed 001 篇四 loaded from schemas/registry/*.yaml.

`catalogue.yaml` holds the ten archive categories and the business items (附件一 归档范围 with
the retention of 附件二 保管期限表); `forms.yaml` holds every form and attachment with its title
variants and printed fields. Both are validated together when loaded, so a broken registry stops
the program at start with a `RegistryError` that names every problem, instead of surfacing later
as a document filed under the wrong form.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from pipeline.errors import RegistryError
from schemas.models import Retention
from schemas.registry_models import BusinessItem, FieldKind, FormSpec, FutureDates, PersonTableWords, SeparatorSpec

log = logging.getLogger(__name__)

REGISTRY_DIR = Path(__file__).parent / "registry"
CATALOGUE_FILE = "catalogue.yaml"
FORMS_FILE = "forms.yaml"
SEPARATORS_FILE = "separator_sheets.yaml"
SUPPORTED_VERSION = 1

INSURANCE_TYPES = frozenset({"养老", "医疗", "失业", "工伤", "生育", "综合"})
BUSINESS_STEPS = frozenset({"登记", "征缴", "待遇", "转移", "稽核", "结算", "统计", "管理"})

# Keys other code relies on: the same key must mean the same kind of value on every form.
CANONICAL_KINDS: dict[str, FieldKind] = {
    "id_number": FieldKind.ID_NUMBER,
    "name": FieldKind.NAME,
    "sex": FieldKind.SEX,
    "birth_date": FieldKind.DATE,
    "unit_name": FieldKind.ORG_NAME,
    "unit_code": FieldKind.UNIT_CODE,
    "form_date": FieldKind.DATE,
    "personal_no": FieldKind.TEXT,
    "postcode": FieldKind.TEXT,
    "phone": FieldKind.PHONE,
    "address": FieldKind.TEXT,
}

_RETENTION_YEARS: dict[Retention, int] = {
    Retention.Y100: 100,
    Retention.Y50: 50,
    Retention.Y30: 30,
    Retention.Y10: 10,
}

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")


class Category(BaseModel):
    """One of the ten archive categories of 第九条."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    number: int = Field(ge=1, description="the order of 第九条, 1–10")
    name: str = Field(description="e.g. 社会保险管理类")
    aliases: list[str] = Field(default=[], description="other names the seed uses for it")


class Registry(BaseModel):
    """The whole registry, checked for internal consistency on construction."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    categories: list[Category]
    items: list[BusinessItem]
    forms: list[FormSpec]
    org_name_endings: list[str] = Field(
        default=[], description="organisational forms a 单位名称 (kind org_name) ends in; see forms.yaml"
    )
    amount_ranges: dict[str, tuple[float, float]] = Field(
        default={}, description="field key → plausible (lowest, highest) amount in yuan; see forms.yaml"
    )
    separator: SeparatorSpec = Field(description="what marks a vendor's separator sheet; see separator_sheets.yaml")
    future_dates: FutureDates = Field(default=FutureDates(), description="dates that may lie ahead of the form")
    date_order: list[str] = Field(default=[], description="date keys in the order they happen in one life")
    form_words: list[str] = Field(default=[], description="words printed by signature lines: never a name")
    person_tables: PersonTableWords = Field(description="the words that frame every person table")

    _forms_by_id: dict[str, FormSpec] = PrivateAttr(default_factory=dict)
    _items_by_id: dict[str, BusinessItem] = PrivateAttr(default_factory=dict)
    _item_by_form: dict[str, BusinessItem] = PrivateAttr(default_factory=dict)
    _labels: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _check_consistency(self) -> Registry:
        problems = _problems(self)
        if problems:
            listing = "\n  - ".join(problems)
            raise RegistryError(
                f"the form registry has {len(problems)} problem(s):\n  - {listing}\n"
                f"Fix {CATALOGUE_FILE} / {FORMS_FILE} / {SEPARATORS_FILE} under schemas/registry/."
            )
        self._forms_by_id = {f.form_id: f for f in self.forms}
        self._items_by_id = {i.item_id: i for i in self.items}
        self._labels = tuple(
            sorted({lbl for form in self.forms for f in form.fields for lbl in (f.label, *f.synonyms)})
        )
        # main use first: an attachment filed under many items maps to the first that lists it
        for item in self.items:
            for form_id in item.main_forms:
                self._item_by_form.setdefault(form_id, item)
        for item in self.items:
            for form_id in item.attachment_forms:
                if self._forms_by_id[form_id].role == "attachment":
                    self._item_by_form.setdefault(form_id, item)
        return self

    def form(self, form_id: str) -> FormSpec:
        """The form with this id; KeyError (carrying the id) if there is none."""
        try:
            return self._forms_by_id[form_id]
        except KeyError:
            raise KeyError(form_id) from None

    def labels(self) -> tuple[str, ...]:
        """Every field label and synonym printed on any form, sorted."""
        return self._labels

    def item(self, item_id: str) -> BusinessItem:
        """The business item with this id; KeyError (carrying the id) if there is none."""
        try:
            return self._items_by_id[item_id]
        except KeyError:
            raise KeyError(item_id) from None

    def main_forms(self) -> list[FormSpec]:
        """Every 主件 form, in file order."""
        return [f for f in self.forms if f.role == "main"]

    def attachment_forms(self) -> list[FormSpec]:
        """Every 附件 form, in file order."""
        return [f for f in self.forms if f.role == "attachment"]

    def item_for_form(self, form_id: str) -> BusinessItem:
        """The first item whose main_forms lists the form (for attachments: whose attachment_forms do).

        A main form shared by several items (参保单位人员增加减少表 serves four) maps to the first;
        callers that know the business more precisely should pick the item themselves.
        """
        self.form(form_id)
        return self._item_by_form[form_id]

    def title_variants(self) -> list[tuple[str, str]]:
        """(form_id, title or variant) for every form, main forms and attachments, title first."""
        pairs: list[tuple[str, str]] = []
        for form in self.forms:
            pairs.append((form.form_id, form.title))
            pairs.extend((form.form_id, variant) for variant in form.variants)
        return pairs

    def retention_for_form(self, form_id: str) -> Retention:
        """The retention of the item the form belongs to (see `item_for_form`)."""
        return self.item_for_form(form_id).retention

    def category_names(self) -> list[str]:
        """The ten category names in the order of 第九条."""
        return [c.name for c in sorted(self.categories, key=lambda c: c.number)]


def destroy_after(retention: Retention, record_date: date) -> date | None:
    """The first day a record may be appraised for destruction; None for 永久.

    The period counts from 1 January of the year after the record was formed (第十条), so a
    10年 record dated 2013-05-12 is kept through 2023 and may be appraised from 2024-01-01.
    """
    if retention is Retention.PERMANENT:
        return None
    return date(record_date.year + 1 + _RETENTION_YEARS[retention], 1, 1)


def load_registry(directory: Path | None = None) -> Registry:
    """Read and validate catalogue.yaml and forms.yaml from `directory` (default: the package data)."""
    folder = directory if directory is not None else REGISTRY_DIR
    catalogue = _read_yaml(folder / CATALOGUE_FILE)
    forms = _read_yaml(folder / FORMS_FILE)
    separators = _read_yaml(folder / SEPARATORS_FILE)
    for name, other in ((FORMS_FILE, forms), (SEPARATORS_FILE, separators)):
        if catalogue.get("version") != other.get("version"):
            raise RegistryError(
                f"{folder}: {CATALOGUE_FILE} is version {catalogue.get('version')!r} but {name} is "
                f"version {other.get('version')!r}; every registry file must carry the same version."
            )
    data = {
        "version": catalogue.get("version"),
        "categories": catalogue.get("categories", []),
        "items": catalogue.get("items", []),
        "forms": forms.get("forms", []),
        "org_name_endings": forms.get("org_name_endings", []),
        "amount_ranges": forms.get("amount_ranges", {}),
        "separator": separators.get("separator"),
        "future_dates": forms.get("future_dates", {}),
        "date_order": forms.get("date_order", []),
        "form_words": forms.get("form_words", []),
        "person_tables": forms.get("person_tables"),
    }
    try:
        registry = Registry.model_validate(data)
    except ValidationError as e:
        raise RegistryError(f"{folder}: the registry data does not match its schema: {e}") from e
    log.debug(
        "loaded form registry from %s: %d categories, %d items, %d forms",
        folder,
        len(registry.categories),
        len(registry.items),
        len(registry.forms),
    )
    return registry


@lru_cache(maxsize=1)
def get_registry() -> Registry:
    """The registry shipped with the package, loaded once per process."""
    return load_registry()


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise RegistryError(f"{path}: cannot read the registry file ({e}); restore it from the repository.") from e
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise RegistryError(f"{path}: not valid YAML ({e}); fix the syntax at the position shown.") from e
    if not isinstance(data, dict):
        raise RegistryError(f"{path}: expected a mapping with 'version' at the top, got {type(data).__name__}.")
    return data


def _duplicates(values: Iterable[str]) -> list[str]:
    return sorted(v for v, n in Counter(values).items() if n > 1)


def _problems(reg: Registry) -> list[str]:
    problems: list[str] = []
    if reg.version != SUPPORTED_VERSION:
        problems.append(f"version {reg.version} is not supported (expected {SUPPORTED_VERSION})")
    problems += _category_problems(reg)
    problems += _form_problems(reg)
    problems += _item_problems(reg)
    problems += _org_name_problems(reg)
    problems += _separator_problems(reg.separator)
    problems += _rule_data_problems(reg)
    return problems


def _separator_problems(sep: SeparatorSpec) -> list[str]:
    problems = [
        f"separator: patch pattern {p!r} is not four bars of W and N"
        for p in sep.patch_codes
        if len(p) != 4 or set(p) - {"W", "N"}
    ]
    problems += [f"separator: patch name {n!r} is given twice" for n in _duplicates(sep.patch_codes.values())]
    names = set(sep.patch_codes.values())
    problems += [f"separator: separating patch {n!r} has no pattern" for n in sep.separating_patches if n not in names]
    if sep.patch_narrow_mm >= sep.patch_wide_mm:
        problems.append(f"separator: narrow bars ({sep.patch_narrow_mm} mm) are not narrower than wide ones")
    return problems


def _rule_data_problems(reg: Registry) -> list[str]:
    """The word lists and key lists the extractor and its checks read."""
    kinds = {f.key: f.kind for form in reg.forms for f in form.fields}
    problems: list[str] = []
    for where, keys in (("future_dates.keys", reg.future_dates.keys), ("date_order", reg.date_order)):
        problems += [f"{where}: {k} is listed twice" for k in _duplicates(keys)]
        problems += [
            f"{where}: {k} is not a date field of any form" for k in keys if kinds.get(k) is not FieldKind.DATE
        ]
    words = [
        ("form_words", reg.form_words),
        ("person_tables.row_number_labels", reg.person_tables.row_number_labels),
        ("person_tables.end_words", reg.person_tables.end_words),
    ]
    for where, listed in words:
        problems += [f"{where}: {w!r} is listed twice" for w in _duplicates(listed)]
        problems += [f"{where}: {w!r} is not plain Han text" for w in listed if not _HAN.match(w)]
    return problems


def _org_name_problems(reg: Registry) -> list[str]:
    problems = [f"org_name_endings: {e!r} is listed twice" for e in _duplicates(reg.org_name_endings)]
    problems += [f"org_name_endings: {e!r} is not plain Han text" for e in reg.org_name_endings if not _HAN.match(e)]
    amount_keys = {f.key for form in reg.forms for f in form.fields if f.kind is FieldKind.AMOUNT}
    for key, (low, high) in reg.amount_ranges.items():
        if key not in amount_keys:
            problems.append(f"amount_ranges: {key} is not an amount field of any form")
        if low >= high:
            problems.append(f"amount_ranges: {key} has lowest {low} not below highest {high}")
    uses = [f"{form.form_id}.{f.key}" for form in reg.forms for f in form.fields if f.kind is FieldKind.ORG_NAME]
    if uses and not reg.org_name_endings:
        problems.append(f"org_name_endings is empty but {', '.join(uses[:3])} … have kind org_name")
    return problems


def _category_problems(reg: Registry) -> list[str]:
    problems = [
        f"duplicate category number {n}"
        for n in sorted(n for n, c in Counter(c.number for c in reg.categories).items() if c > 1)
    ]
    names = [c.name for c in reg.categories] + [a for c in reg.categories for a in c.aliases]
    problems += [f"duplicate category name {n}" for n in _duplicates(names)]
    return problems


def _form_problems(reg: Registry) -> list[str]:
    problems: list[str] = []
    ids = [f.form_id for f in reg.forms]
    problems += [f"duplicate form_id {i}" for i in _duplicates(ids)]
    problems += [f"form_id {i!r} is not ascii snake_case" for i in ids if not _ID_RE.match(i)]
    owner: dict[str, str] = {}
    for form in reg.forms:
        for title in [form.title, *form.variants]:
            other = owner.setdefault(title, form.form_id)
            if other != form.form_id:
                problems.append(f"title {title!r} belongs to both {other} and {form.form_id}")
        problems += [
            f"form {form.form_id}: variant {v!r} is listed twice or repeats the title"
            for v in _duplicates([form.title, *form.variants])
        ]
        problems += _field_problems(form)
    used_main = {f for item in reg.items for f in item.main_forms}
    used_any = used_main | {f for item in reg.items for f in item.attachment_forms}
    for form in reg.forms:
        if form.role == "main" and form.form_id not in used_main:
            problems.append(f"main form {form.form_id} is not a main form of any business item")
        elif form.role == "attachment" and form.form_id not in used_any:
            problems.append(f"attachment {form.form_id} is not used by any business item")
    return problems


def _field_problems(form: FormSpec) -> list[str]:
    where = f"form {form.form_id}"
    if not form.fields:
        return [f"{where}: has a person_table but no fields"] if form.person_table else []
    keys = [fld.key for fld in form.fields]
    problems = [f"{where}: duplicate field key {k}" for k in _duplicates(keys)]
    for fld in form.fields:
        if not _ID_RE.match(fld.key):
            problems.append(f"{where}: field key {fld.key!r} is not ascii snake_case")
        expected = CANONICAL_KINDS.get(fld.key)
        if expected is not None and fld.kind is not expected:
            problems.append(f"{where}: field {fld.key} must have kind {expected.value}, not {fld.kind.value}")
        if fld.kind is FieldKind.CHOICE and not fld.choices:
            problems.append(f"{where}: choice field {fld.key} lists no choices")
    problems += [
        f"{where}: person_table column {k} is not a field of the form" for k in form.person_table if k not in keys
    ]
    problems += [f"{where}: person_table lists {k} twice" for k in _duplicates(form.person_table)]
    form_dates = [fld for fld in form.fields if fld.key == "form_date"]
    if len(form_dates) != 1 or not form_dates[0].required:
        problems.append(f"{where}: a form with fields needs exactly one required form_date field")
    return problems


def _item_problems(reg: Registry) -> list[str]:
    problems: list[str] = []
    ids = [i.item_id for i in reg.items]
    problems += [f"duplicate item_id {i}" for i in _duplicates(ids)]
    problems += [f"item_id {i!r} is not ascii snake_case" for i in ids if not _ID_RE.match(i)]
    categories = {c.name for c in reg.categories}
    forms = {f.form_id: f for f in reg.forms}
    for item in reg.items:
        where = f"item {item.item_id}"
        if item.category not in categories:
            problems.append(f"{where}: unknown category {item.category!r}")
        if item.insurance_type not in INSURANCE_TYPES:
            problems.append(f"{where}: insurance_type {item.insurance_type!r} not in {sorted(INSURANCE_TYPES)}")
        if item.business_step not in BUSINESS_STEPS:
            problems.append(f"{where}: business_step {item.business_step!r} not in {sorted(BUSINESS_STEPS)}")
        if not item.main_forms and not item.attachment_forms:
            problems.append(f"{where}: lists no forms")
        for form_id in [*item.main_forms, *item.attachment_forms]:
            if form_id not in forms:
                problems.append(f"{where}: unknown form_id {form_id}")
        for form_id in item.main_forms:
            if form_id in forms and forms[form_id].role != "main":
                problems.append(f"{where}: {form_id} is listed as 主件 but its role is {forms[form_id].role}")
        problems += [f"{where}: form {f} listed twice" for f in _duplicates([*item.main_forms, *item.attachment_forms])]
    return problems
