"""What goes onto one form: each registry field with the label printed for it and the value written in."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from schemas.registry_models import FieldKind, FieldSpec, FormSpec
from synth.values import Case, FieldValue, field_value

# fields that need a whole row: long names, addresses, periods
WIDE_KEYS = frozenset(
    {
        "unit_name",
        "address",
        "bank_name",
        "change_before",
        "change_after",
        "change_reason",
        "arrears_period",
        "arrears_reason",
        "household_location",
        "transfer_in",
        "transfer_out",
        "injury_determination_no",
        "hospital",
        "insurance_types",
        "death_cause",
        "bank_account",
    }
)
UNIT_KEYS = frozenset(
    {"unit_name", "unit_code", "legal_rep", "unit_type", "bank_name", "bank_account", "unit_insurance_no"}
)
PERSON_KEYS = frozenset(
    {
        "id_number",
        "name",
        "sex",
        "birth_date",
        "ethnicity",
        "personal_no",
        "household_type",
        "address",
        "postcode",
        "phone",
        "work_start_date",
        "household_location",
    }
)


@dataclass(frozen=True)
class Entry:
    spec: FieldSpec
    label: str
    value: FieldValue | None  # None: left blank

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def wide(self) -> bool:
        return self.spec.key in WIDE_KEYS

    def day(self) -> date | None:
        """The date a date field holds (from its normalised ISO form)."""
        if self.spec.kind is not FieldKind.DATE or self.value is None:
            return None
        return date.fromisoformat(self.value.normalised)


def fill(form: FormSpec, case: Case, rng: random.Random) -> list[Entry]:
    """Every registry field of the form, labelled with its label or a synonym; optional ones sometimes blank."""
    entries = []
    for spec in form.fields:
        label = rng.choice(spec.synonyms) if spec.synonyms and rng.random() < 0.35 else spec.label
        blank = not spec.required and rng.random() < 0.07
        entries.append(Entry(spec, label, None if blank else field_value(spec, case, rng)))
    return entries


def is_unit_form(entries: list[Entry]) -> bool:
    keys = {e.key for e in entries}
    return "unit_code" in keys and "id_number" not in keys


def business_section(title: str) -> str:
    for word, name in (
        ("变更", "变更信息"),
        ("转移", "转移信息"),
        ("补", "补缴信息"),
        ("增加", "增减信息"),
        ("失业", "申领信息"),
        ("生育", "核定信息"),
        ("工伤", "待遇信息"),
        ("待遇", "待遇信息"),
        ("丧葬", "待遇信息"),
    ):
        if word in title:
            return name
    return "业务信息"


def sections(entries: list[Entry], title: str) -> list[tuple[str, list[Entry]]]:
    """Entries grouped under section headers (单位信息, 个人信息, …), keeping registry order within each."""
    unit_form = is_unit_form(entries)
    unit: list[Entry] = []
    person: list[Entry] = []
    rest: list[Entry] = []
    for e in entries:
        if e.key in UNIT_KEYS or (unit_form and e.key in ("address", "postcode", "phone", "contact_person")):
            unit.append(e)
        elif e.key in PERSON_KEYS:
            person.append(e)
        else:
            rest.append(e)
    out = [(name, group) for name, group in (("单位信息", unit), ("个人信息", person)) if group]
    if rest:
        out.append((business_section(title), rest))
    if unit_form:
        out.sort(key=lambda s: s[0] != "单位信息")
    return out
