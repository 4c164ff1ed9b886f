"""The delivery package of a real ingested batch, and the agency's acceptance check passing and failing it."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bagit
import pikepdf
import pytest
from lxml import etree
from openpyxl import load_workbook

from pipeline.deliver.accept import check_package
from pipeline.deliver.acceptance_sheet import write_acceptance_sheet
from pipeline.deliver.mets import NSMAP, unlinked_events, validate_mets
from pipeline.deliver.package import DeliveryOptions, build_package
from pipeline.deliver.spec import package_spec
from pipeline.errors import DeliveryError, ExitCode
from pipeline.run import ingest_batch
from pipeline.settings import DecideSettings, Settings
from pipeline.store import open_store
from pipeline.store.leases import LeaseStore
from pipeline.store.review_save import ReviewedField, ReviewSaver
from synth import generate_batch

pytestmark = [pytest.mark.ocr, pytest.mark.slow]

REVIEWER = "审核员甲"
OPERATOR = "扫描员乙"


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, str, Path]]:
    """A batch ingested with the real engine, its review finished (one correction), then packaged."""
    root = tmp_path_factory.mktemp("deliver")
    batch = root / "batch"
    generate_batch(batch, 3, 4242, "mixed")
    (batch / "manifest.json").write_text(
        json.dumps({"fonds_no": "0012", "operator": OPERATOR, "box_no": "7"}), encoding="utf-8"
    )
    # Every document into the audit sample, so the package carries reviews and a correction.
    settings = Settings(home=root / "home", workers=1, decide=DecideSettings(audit_sample_rate=1.0))
    summary = ingest_batch(batch, settings, show_progress=False)
    store = open_store(settings.database_url)
    try:
        tasks = store.qc_tasks("open")
        assert len(tasks) == 3
        leases, saver = LeaseStore(store.engine), ReviewSaver(store.engine)
        now = datetime.now(UTC)
        for n in range(len(tasks)):
            lease = leases.claim_next(REVIEWER, now, timedelta(minutes=10))
            assert lease is not None
            doc, version = saver.load(lease.doc_id) or (None, "")
            assert doc is not None
            reviewed = []
            if n == 0:
                # The first document's name is corrected, as a reviewer would from the household register.
                pos = next(i for i, f in enumerate(doc.fields) if f.key == "name")
                reviewed = [ReviewedField(position=pos, value="张四", normalized="张四", evidence="户口本复印件")]
            saver.save(task_id=lease.task_id, reviewer=REVIEWER, token=lease.token, version=version,
                       reviewed=reviewed, now=now, client="127.0.0.1")  # fmt: skip
        opts = DeliveryOptions(batch_id=summary.batch_id, out=root / "package", vendor="某数字化公司", contract="HT-1")
        build_package(store, opts)
    finally:
        store.close()
    yield settings, summary.batch_id, root / "package"


@pytest.fixture
def package_copy(delivered: tuple[Settings, str, Path], tmp_path: Path) -> Path:
    dest = tmp_path / "package"
    shutil.copytree(delivered[2], dest)
    return dest


def _record_files(package: Path) -> list[Path]:
    return sorted(p for p in (package / "data").rglob("*.pdf"))


def _problems(package: Path) -> list[str]:
    return [str(p) for p in check_package(package).problems]


def test_package_is_a_valid_bag_laid_out_by_fonds_year_and_business(delivered) -> None:
    _settings, batch_id, package = delivered
    bag = bagit.Bag(str(package))
    assert bag.is_valid()
    assert bag.info["Contract-Number"] == "HT-1"
    assert bag.info["Source-Organization"] == "某数字化公司"
    assert bag.info["External-Identifier"] == batch_id
    assert "Payload-Oxum" in bag.info
    assert (package / "tagmanifest-sha256.txt").is_file()
    files = _record_files(package)
    assert len(files) == 3
    for f in files:
        fonds, year, business, name = f.relative_to(package / "data").parts
        assert fonds == "0012"
        assert name.startswith(f"0012-{year}-")
        assert "-" in business
    assert (package / "data" / "说明文件.txt").read_text(encoding="utf-8").startswith("社会保险业务档案")


def test_acceptance_passes_a_sound_package(delivered, tmp_path: Path) -> None:
    report = check_package(delivered[2], seed=3)
    assert [str(p) for p in report.problems] == []
    assert report.records == report.files == 3
    assert report.checks_run["PDF/A"] == 3
    assert report.checks_run["公民身份号码"] >= 1
    assert 1 <= len(report.sample) <= 3
    sheet = load_workbook(write_acceptance_sheet(report, tmp_path / "登记表.xlsx"))
    rows = [[c.value for c in r] for r in sheet["移交与接收登记表"].iter_rows()]
    results = {r[0]: r[2] for r in rows if r and r[0] in ("真实性", "完整性", "可用性", "安全性")}
    assert results == {"真实性": "通过", "完整性": "通过", "可用性": "通过", "安全性": "通过"}


def test_sample_is_seedable(delivered) -> None:
    a = check_package(delivered[2], seed=11).sample
    b = check_package(delivered[2], seed=11).sample
    assert a == b and len(a) >= 1


def test_catalogue_sheets_carry_the_standard_and_domain_columns(delivered) -> None:
    package = delivered[2]
    spec = package_spec()
    folder = package / "data" / spec.catalogue_dir
    for sheet in spec.sheets:
        wb = load_workbook(folder / f"{sheet.name}.xlsx")
        ws = wb[sheet.name]
        headers = [c.value for c in ws[2]]
        assert headers == [c.header for c in sheet.columns]
        assert ws.freeze_panes == "A3"
        assert "数据字典" in wb.sheetnames
    ws = load_workbook(folder / "归档文件目录.xlsx")["归档文件目录"]
    headers = [c.value for c in ws[2]]
    for standard in ("序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注"):
        assert standard in headers
    for domain in ("表单类型", "姓名", "公民身份号码", "单位名称", "统一社会信用代码", "文件名", "SHA-256"):
        assert domain in headers
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 3
    dates = [r[headers.index("日期")] for r in rows]
    assert all(isinstance(d, str) and len(d) == 8 and d.isdigit() for d in dates)
    reviewed = [r[headers.index("审核人")] for r in rows]
    assert REVIEWER in reviewed
    inner = load_workbook(folder / "卷内目录.xlsx")["卷内目录"]
    assert [c.value for c in inner[2]][:8] == ["卷号", "顺序号", "文号", "责任者", "题名", "日期", "页号", "备注"]
    note = load_workbook(folder / "备考表.xlsx")["备考表"]
    assert [c.value for c in note[2]] == ["案卷号", "本卷情况说明", "立卷人", "检查人", "立卷时间"]
    assert OPERATOR in [c.value for c in note[3]]


def test_mets_is_schema_valid_and_every_event_names_its_agent(delivered) -> None:
    package = delivered[2]
    (mets_path,) = (package / "data").glob("METS.*.xml")
    doc = etree.parse(str(mets_path))
    assert validate_mets(doc) == []
    assert unlinked_events(doc) == []
    events = doc.findall(".//premis:event", NSMAP)
    assert events
    types = {e.findtext("premis:eventType", namespaces=NSMAP) for e in events}
    assert {"capture", "character recognition", "metadata extraction", "creation", "fixity check"} <= types
    assert {"review", "metadata modification"} <= types
    agents = {
        a.findtext("premis:agentIdentifier/premis:agentIdentifierValue", namespaces=NSMAP): a
        for a in doc.findall(".//premis:agent", NSMAP)
    }
    for a in agents.values():
        if a.findtext("premis:agentType", namespaces=NSMAP) == "software":
            assert a.findtext("premis:agentVersion", namespaces=NSMAP)
    assert f"person:{REVIEWER}" in agents and f"person:{OPERATOR}" in agents
    correction = next(e for e in events if e.findtext("premis:eventType", namespaces=NSMAP) == "metadata modification")
    assert "改为'张四'，依据户口本复印件" in correction.findtext(".//premis:eventDetail", namespaces=NSMAP)


def test_mets_validation_can_fail(delivered) -> None:
    (mets_path,) = (delivered[2] / "data").glob("METS.*.xml")
    doc = etree.parse(str(mets_path))
    doc.getroot().find("mets:fileSec", NSMAP).getparent().remove(doc.getroot().find("mets:structMap", NSMAP))
    assert validate_mets(doc), "a METS without a structMap must not validate"
    event = doc.find(".//premis:event", NSMAP)
    for link in event.findall("premis:linkingAgentIdentifier", NSMAP):
        event.remove(link)
    assert any("no agent" in p for p in unlinked_events(doc))


def test_removed_file_is_named(package_copy: Path) -> None:
    victim = _record_files(package_copy)[0]
    rel = victim.relative_to(package_copy / "data").as_posix()
    victim.unlink()
    problems = _problems(package_copy)
    assert any("BagIt manifest" in p and rel in p and "missing" in p for p in problems)
    assert any("数据挂接" in p and "row without a file" in p for p in problems)


def test_changed_byte_is_named(package_copy: Path) -> None:
    victim = _record_files(package_copy)[1]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    problems = _problems(package_copy)
    rel = victim.relative_to(package_copy).as_posix()
    assert any("[真实性] checksum" in p and rel in p for p in problems)


def _catalogue(package: Path) -> Path:
    return package / "data" / package_spec().catalogue_dir / "归档文件目录.xml"


def test_deleted_catalogue_row_is_named(package_copy: Path) -> None:
    tree = etree.parse(str(_catalogue(package_copy)))
    first = tree.getroot().find("条目")
    orphan = first.findtext("文件名")
    tree.getroot().remove(first)
    tree.write(str(_catalogue(package_copy)), encoding="utf-8", xml_declaration=True)
    problems = _problems(package_copy)
    assert any("file without a catalogue row" in p and orphan in p for p in problems)
    assert any("checksum" in p and "归档文件目录.xml" in p for p in problems)


def test_duplicated_catalogue_row_is_named(package_copy: Path) -> None:
    tree = etree.parse(str(_catalogue(package_copy)))
    first = tree.getroot().find("条目")
    code = first.findtext("档号")
    tree.getroot().append(copy.deepcopy(first))
    tree.write(str(_catalogue(package_copy)), encoding="utf-8", xml_declaration=True)
    problems = _problems(package_copy)
    assert any("档号 unique" in p and code in p and "2 times" in p for p in problems)


def test_dropped_page_is_named(package_copy: Path) -> None:
    victim = next(p for p in _record_files(package_copy) if len(pikepdf.open(p).pages) > 1)
    with pikepdf.open(victim, allow_overwriting_input=True) as pdf:
        del pdf.pages[-1]
        pdf.save(victim)
    code = victim.stem
    problems = _problems(package_copy)
    assert any("页数" in p and code in p for p in problems)
    assert any("[真实性] checksum" in p and victim.name in p for p in problems)


def test_accept_command_exits_non_zero_and_lists_every_problem(package_copy: Path) -> None:
    files = _record_files(package_copy)
    files[0].unlink()
    files[1].write_bytes(files[1].read_bytes() + b"\n%tampered")
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "accept", str(package_copy)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == ExitCode.NOT_ACCEPTED
    assert files[0].name in proc.stderr and files[1].name in proc.stderr


def test_delivery_refuses_a_pdf_changed_since_cataloguing(delivered, tmp_path: Path) -> None:
    settings, batch_id, _package = delivered
    store = open_store(settings.database_url)
    record = store.records(batch_id)[0]
    pdf = Path(record.pdfa_path or "")
    original = pdf.read_bytes()
    pdf.write_bytes(original + b"\n%changed")
    try:
        opts = DeliveryOptions(batch_id=batch_id, out=tmp_path / "p", vendor="v", contract="c")
        with pytest.raises(DeliveryError, match="changed since they were catalogued") as e:
            build_package(store, opts)
        assert record.archive_no in e.value.message
    finally:
        pdf.write_bytes(original)
        store.close()
    assert not (tmp_path / "p").exists()


def test_delivery_refuses_unfinished_review(delivered, tmp_path: Path) -> None:
    settings, batch_id, _package = delivered
    store = open_store(settings.database_url)
    task = store.qc_tasks("done")[0]
    reopened = task.model_copy(update={"task_id": task.task_id + "x", "status": "open", "claimed_by": None})
    store.upsert_qc_task(reopened)
    try:
        opts = DeliveryOptions(batch_id=batch_id, out=tmp_path / "p", vendor="v", contract="c")
        with pytest.raises(DeliveryError, match="review not finished"):
            build_package(store, opts)
        result = build_package(store, opts.model_copy(update={"allow_open_review": True}))
        assert result.records == 3
        ws = load_workbook(tmp_path / "p" / "data" / "目录" / "归档文件目录.xlsx")["归档文件目录"]
        assert any("待复核" in str(c.value) for row in ws.iter_rows(min_row=3) for c in row)
    finally:
        store.complete_qc_task(reopened.task_id, REVIEWER)
        store.close()


def test_qc_evidence_carries_the_correction_and_the_audit_sample(delivered) -> None:
    package = delivered[2]
    folder = package / "data" / package_spec().evidence_dir
    log = load_workbook(folder / "更正记录.xlsx")["更正记录"]
    rows = list(log.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 1
    assert "改为'张四'，依据户口本复印件" in rows[0][-1] and rows[0][6] == REVIEWER
    report = json.loads((folder / "自检报告.json").read_text(encoding="utf-8"))
    sample = report["audit_sample"]
    assert sample["sampled"] == sample["reviewed"] == 3 and sample["without_correction"] == 2
    assert sample["low"] < sample["precision"] < sample["high"]
