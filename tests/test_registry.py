"""The form registry data (schemas/registry/*.yaml) against seed 001 篇四, and its validator."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from pipeline.errors import RegistryError
from schemas.models import Retention
from schemas.registry import REGISTRY_DIR, Registry, destroy_after, get_registry, load_registry
from schemas.registry_models import FieldKind

TEN_CATEGORIES = [
    "社会保险管理类",
    "社会保险费征缴类",
    "养老保险待遇类",
    "失业保险待遇类",
    "医疗保险待遇类",
    "工伤保险待遇类",
    "生育保险待遇类",
    "社会保险稽核监管类",
    "社会保险基金收缴支付结算类",
    "社会保险业务统计报表类",
]

# The 12 main forms whose printed fields the extractor relies on; person (P) or unit (U) forms.
KEY_FORMS = {
    "单位社会保险登记表": "U",
    "参保单位变更登记表": "U",
    "个人注册登记表": "P",
    "缴费个人变更登记表": "P",
    "参保单位人员增加减少表": "U",
    "养老保险待遇审核表": "P",
    "失业保险待遇申领登记表": "P",
    "工伤定期待遇审核单": "P",
    "生育待遇核定单": "P",
    "社会保险补费审批表": "P",
    "基本养老保险关系转移接续申请表": "P",
    "企业非因工死亡及离退休人员丧葬费、抚恤金审批表": "P",
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return get_registry()


def _by_title(registry: Registry, title: str) -> str:
    matches = [f.form_id for f in registry.forms if f.title == title]
    assert len(matches) == 1, title
    return matches[0]


def _item_named(registry: Registry, name: str) -> str:
    matches = [i.item_id for i in registry.items if i.name == name]
    assert len(matches) == 1, name
    return matches[0]


def test_packaged_registry_loads_and_is_cached(registry: Registry) -> None:
    assert registry.version == 1
    assert get_registry() is registry
    assert Path(__file__).parents[1] / "schemas" / "registry" == REGISTRY_DIR
    assert len(registry.items) >= 60
    assert len(registry.main_forms()) >= 80


def test_all_ten_categories_in_order_and_used(registry: Registry) -> None:
    assert registry.category_names() == TEN_CATEGORIES
    used = {item.category for item in registry.items}
    assert used == set(TEN_CATEGORIES)


def test_retention_pins_from_seed(registry: Registry) -> None:
    # 附件二 一 4 个人注册 [100年]
    assert registry.retention_for_form(_by_title(registry, "个人注册登记表")) is Retention.Y100
    # 附件二 八 5 社会保险大要案材料 [永久]
    assert registry.item(_item_named(registry, "社会保险大要案材料")).retention is Retention.PERMANENT
    # 附件二 四 1 正常失业保险待遇支付 [10年]
    assert registry.item("unemployment_regular_benefit").retention is Retention.Y10
    assert registry.retention_for_form("unemployment_benefit_application") is Retention.Y10
    # 附件二 一 1 单位注册 [永久], 三 1 养老保险待遇正常支付 [50年], 八 1 书面稽核 [30年]
    assert registry.retention_for_form("unit_social_insurance_registration") is Retention.PERMANENT
    assert registry.retention_for_form("pension_benefit_review") is Retention.Y50
    assert registry.retention_for_form("annual_inspection_declaration") is Retention.Y30


def test_accounting_items_are_flagged(registry: Registry) -> None:
    flagged = {i.item_id for i in registry.items if i.accounting_rules}
    # 附件二 sends these six to 《会计档案管理办法》
    assert {
        "collection_accounting",
        "pension_accounting",
        "unemployment_accounting",
        "medical_accounting",
        "injury_accounting",
        "maternity_accounting",
    } <= flagged
    assert not registry.item("personal_enrolment").accounting_rules


def test_destroy_after_counts_from_next_first_of_january() -> None:
    assert destroy_after(Retention.Y10, date(2013, 5, 12)) == date(2024, 1, 1)
    assert destroy_after(Retention.Y10, date(2013, 12, 31)) == date(2024, 1, 1)
    assert destroy_after(Retention.Y100, date(2013, 1, 1)) == date(2114, 1, 1)
    assert destroy_after(Retention.PERMANENT, date(2013, 5, 12)) is None


def test_key_forms_have_required_fields(registry: Registry) -> None:
    for title, kind in KEY_FORMS.items():
        form = registry.form(_by_title(registry, title))
        assert form.role == "main"
        assert 6 <= len(form.fields) <= 14, title
        required = {f.key for f in form.fields if f.required}
        needed = {"id_number", "name", "form_date"} if kind == "P" else {"unit_name", "unit_code", "form_date"}
        assert needed <= required, (title, needed - required)
        by_key = {f.key: f for f in form.fields}
        assert by_key["form_date"].kind is FieldKind.DATE
        if "id_number" in by_key:
            id_field = by_key["id_number"]
            assert id_field.label == "公民身份号码"
            assert {"身份证号码", "身份证号"} <= set(id_field.synonyms)
            assert id_field.kind is FieldKind.ID_NUMBER
        if "unit_code" in by_key:
            assert by_key["unit_code"].label == "统一社会信用代码"
            assert "组织机构代码" not in by_key["unit_code"].synonyms
        if "personal_no" in by_key:
            assert by_key["personal_no"].kind is FieldKind.TEXT


def test_lookups(registry: Registry) -> None:
    assert registry.item_for_form("unit_staff_change").item_id == "staff_increase_active"
    assert registry.item_for_form("death_certificate").item_id == "staff_decrease_retired"
    assert registry.form("id_card_copy").role == "attachment"
    with pytest.raises(KeyError, match="no_such_form"):
        registry.form("no_such_form")
    with pytest.raises(KeyError, match="no_such_form"):
        registry.item_for_form("no_such_form")
    pairs = registry.title_variants()
    assert ("personal_registration", "个人注册登记表") in pairs
    assert ("personal_registration", "北京市社会保险个人信息登记表") in pairs
    assert ("id_card_copy", "居民身份证复印件") in pairs
    titles = [t for _, t in pairs]
    assert len(titles) == len(set(titles)), "a title or variant names two forms"


def test_attachments_named_in_brief_exist(registry: Registry) -> None:
    titles = {t: fid for fid, t in registry.title_variants()}
    for title in ["居民身份证复印件", "户口簿复印件", "死亡证明", "工伤认定决定书", "劳动能力鉴定结论书"]:
        assert registry.form(titles[title]).role == "attachment", title


# ------------------------------------------------------------------ validator on broken copies


def _copy(tmp_path: Path) -> tuple[dict, dict]:
    for path in REGISTRY_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    catalogue = yaml.safe_load((tmp_path / "catalogue.yaml").read_text(encoding="utf-8"))
    forms = yaml.safe_load((tmp_path / "forms.yaml").read_text(encoding="utf-8"))
    return catalogue, forms


def _write(tmp_path: Path, catalogue: dict, forms: dict) -> None:
    (tmp_path / "catalogue.yaml").write_text(yaml.safe_dump(catalogue, allow_unicode=True), encoding="utf-8")
    (tmp_path / "forms.yaml").write_text(yaml.safe_dump(forms, allow_unicode=True), encoding="utf-8")


def test_unchanged_copy_loads(tmp_path: Path) -> None:
    catalogue, forms = _copy(tmp_path)
    _write(tmp_path, catalogue, forms)
    assert len(load_registry(tmp_path).forms) == len(get_registry().forms)


def test_duplicate_form_id_fails(tmp_path: Path) -> None:
    catalogue, forms = _copy(tmp_path)
    forms["forms"].append(dict(forms["forms"][0], title="重复的表", variants=[]))
    _write(tmp_path, catalogue, forms)
    with pytest.raises(RegistryError, match="duplicate form_id unit_social_insurance_registration"):
        load_registry(tmp_path)


def test_duplicate_item_id_fails(tmp_path: Path) -> None:
    catalogue, forms = _copy(tmp_path)
    catalogue["items"].append(dict(catalogue["items"][0]))
    _write(tmp_path, catalogue, forms)
    with pytest.raises(RegistryError, match="duplicate item_id unit_registration"):
        load_registry(tmp_path)


def test_unknown_form_id_in_item_fails(tmp_path: Path) -> None:
    catalogue, forms = _copy(tmp_path)
    catalogue["items"][0]["attachment_forms"].append("no_such_attachment")
    _write(tmp_path, catalogue, forms)
    with pytest.raises(RegistryError, match="item unit_registration: unknown form_id no_such_attachment"):
        load_registry(tmp_path)


def test_unknown_category_and_orphan_main_form_fail(tmp_path: Path) -> None:
    catalogue, forms = _copy(tmp_path)
    catalogue["items"][0]["category"] = "不存在类"
    forms["forms"].append({"form_id": "orphan_form", "title": "无人使用的表", "role": "main"})
    _write(tmp_path, catalogue, forms)
    with pytest.raises(RegistryError) as info:
        load_registry(tmp_path)
    assert "unknown category '不存在类'" in info.value.message
    assert "main form orphan_form is not a main form of any business item" in info.value.message


def test_duplicate_field_key_fails(tmp_path: Path) -> None:
    catalogue, forms = _copy(tmp_path)
    fields = forms["forms"][0]["fields"]
    fields.append(dict(fields[0], label="单位全称"))
    _write(tmp_path, catalogue, forms)
    with pytest.raises(RegistryError, match="duplicate field key unit_name"):
        load_registry(tmp_path)


def test_schema_error_and_missing_file_are_registry_errors(tmp_path: Path) -> None:
    catalogue, forms = _copy(tmp_path)
    catalogue["items"][0]["retention"] = "7年"
    _write(tmp_path, catalogue, forms)
    with pytest.raises(RegistryError, match="does not match its schema"):
        load_registry(tmp_path)
    (tmp_path / "forms.yaml").unlink()
    with pytest.raises(RegistryError, match="cannot read"):
        load_registry(tmp_path)


def test_org_name_endings_are_data_and_checked(tmp_path: Path) -> None:
    assert {"有限公司", "厂", "局", "医院", "委员会"} <= set(get_registry().org_name_endings)
    catalogue, forms = _copy(tmp_path)
    forms["org_name_endings"] = [*forms["org_name_endings"], "厂", "Ltd"]
    _write(tmp_path, catalogue, forms)
    with pytest.raises(RegistryError) as info:
        load_registry(tmp_path)
    assert "'厂' is listed twice" in info.value.message
    assert "'Ltd' is not plain Han text" in info.value.message
    forms["org_name_endings"] = []
    _write(tmp_path, catalogue, forms)
    with pytest.raises(RegistryError, match="org_name_endings is empty but"):
        load_registry(tmp_path)


def test_unit_name_is_an_org_name_everywhere(registry: Registry) -> None:
    kinds = {f.kind for form in registry.forms for f in form.fields if f.key == "unit_name"}
    assert kinds == {FieldKind.ORG_NAME}


def test_person_table_columns_are_fields_of_their_form(tmp_path: Path) -> None:
    catalogue, forms = _copy(tmp_path)
    staff = next(f for f in forms["forms"] if f["form_id"] == "unit_staff_change")
    staff["person_table"] = [*staff["person_table"], "no_such_field", "name"]
    _write(tmp_path, catalogue, forms)
    with pytest.raises(RegistryError) as info:
        load_registry(tmp_path)
    assert "person_table column no_such_field is not a field of the form" in info.value.message
    assert "person_table lists name twice" in info.value.message


def test_separator_sheets_are_data_and_checked(tmp_path: Path) -> None:
    separator = get_registry().separator
    assert separator.pattern("T") == "NWNW" and {"2", "3", "T"} == set(separator.separating_patches)
    _copy(tmp_path)
    data = yaml.safe_load((tmp_path / "separator_sheets.yaml").read_text(encoding="utf-8"))
    data["separator"]["patch_codes"]["WNX"] = "9"
    data["separator"]["separating_patches"].append("5")
    data["separator"]["patch_narrow_mm"] = 6.0
    (tmp_path / "separator_sheets.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RegistryError) as info:
        load_registry(tmp_path)
    assert "patch pattern 'WNX' is not four bars of W and N" in info.value.message
    assert "separating patch '5' has no pattern" in info.value.message
    assert "narrow bars (6.0 mm) are not narrower than wide ones" in info.value.message
    (tmp_path / "separator_sheets.yaml").unlink()
    with pytest.raises(RegistryError, match=r"separator_sheets\.yaml: cannot read"):
        load_registry(tmp_path)


def test_rule_data_is_in_the_registry(registry: Registry) -> None:
    assert registry.form("unit_staff_change").person_table[:3] == ["name", "sex", "id_number"]
    assert "retire_date" in registry.future_dates.keys and registry.future_dates.years >= 30
    assert registry.date_order == ["birth_date", "work_start_date", "retire_date"]
    assert {"签字", "负责人"} <= set(registry.form_words)
    assert "备注" in registry.person_tables.end_words


def test_a_role_outside_main_and_attachment_fails(tmp_path: Path) -> None:
    catalogue, forms = _copy(tmp_path)
    forms["forms"][0]["role"] = "annex"
    _write(tmp_path, catalogue, forms)
    with pytest.raises(RegistryError, match="does not match its schema") as info:
        load_registry(tmp_path)
    assert "'main' or 'attachment'" in info.value.message


def test_bad_rule_data_fails(tmp_path: Path) -> None:
    catalogue, forms = _copy(tmp_path)
    forms["future_dates"]["keys"].append("unit_name")
    forms["date_order"].append("no_such_date")
    forms["form_words"].append("Sign")
    forms["person_tables"]["end_words"].append("备注")
    _write(tmp_path, catalogue, forms)
    with pytest.raises(RegistryError) as info:
        load_registry(tmp_path)
    message = info.value.message
    assert "future_dates.keys: unit_name is not a date field of any form" in message
    assert "date_order: no_such_date is not a date field of any form" in message
    assert "form_words: 'Sign' is not plain Han text" in message
    assert "person_tables.end_words: '备注' is listed twice" in message
    del forms["person_tables"]
    _write(tmp_path, catalogue, forms)
    with pytest.raises(RegistryError, match="does not match its schema") as info:
        load_registry(tmp_path)
    assert "person_tables" in info.value.message
