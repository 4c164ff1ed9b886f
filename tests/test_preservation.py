"""Fixity over time, appraisal at expiry, and destruction that needs two different archivists."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.errors import ConfigError, ExitCode, NotPermittedError, StoreConflictError
from pipeline.preserve import destruction
from pipeline.preserve.destruction_sheet import write_destruction_sheet
from pipeline.preserve.fixity import run_fixity
from pipeline.store import CatalogueStore, open_store
from pipeline.store.accounts import AccountStore
from pipeline.store.preservation import PreservationStore
from review.security import hash_password
from schemas.access import Role, User
from schemas.models import ArchiveRecord, Batch, Document, Retention, SourceFile
from schemas.preservation import AppraisalDecision, FixityOutcome

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
PASSWORD = "a long enough password"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[CatalogueStore, Path]]:
    url = (
        f"sqlite:///{tmp_path / 'catalogue.sqlite'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    )
    store = open_store(url)
    scans = tmp_path / "scans"
    scans.mkdir()
    store.upsert_batch(Batch(batch_id="b1", root=str(scans), created_at=NOW))
    for n, (due, retention) in enumerate(
        [(date(2020, 1, 1), Retention.Y10), (date(2026, 1, 1), Retention.Y30), (date(2040, 1, 1), Retention.Y30)]
    ):
        scan = scans / f"scan{n}.png"
        scan.write_bytes(b"scan bytes %d" % n)
        fid = f"f{n}"
        store.upsert_source_file(
            SourceFile(file_id=fid, batch_id="b1", rel_path=scan.name, size=12, sha256=_sha(scan.read_bytes()))
        )
        doc = Document(doc_id=f"d{n}", batch_id="b1", file_id=fid, rel_path=scan.name, first_page=1, last_page=1)
        store.replace_documents("b1", fid, [doc])
        pdf = tmp_path / "archive" / "2010" / f"r{n}.pdf"
        pdf.parent.mkdir(parents=True, exist_ok=True)
        pdf.write_bytes(b"%%PDF record %d" % n)
        work = tmp_path / "work" / "b1" / fid
        work.mkdir(parents=True)
        (work / "000001_pp.png").write_bytes(b"working image")
        store.save_record(
            ArchiveRecord(
                record_id=f"r{n}",
                doc_id=f"d{n}",
                archive_no=f"2010-补缴-001-000{n + 1}",
                title="社会保险补费审批表",
                form_date=date(2010, 5, 1),
                retention=retention,
                destroy_after=due,
                pdfa_path=str(pdf),
                sha256=_sha(pdf.read_bytes()),
            )
        )
    accounts = AccountStore(store.engine)
    for name, role in (("dang1", Role.ARCHIVIST), ("dang2", Role.ARCHIVIST), ("counter1", Role.COUNTER)):
        accounts.add_user(User(username=name, display_name=name, role=role, created_at=NOW), hash_password(PASSWORD))
    yield store, tmp_path
    store.close()


def test_fixity_records_every_check_and_names_changed_and_missing_files(home) -> None:
    store, root = home
    first = run_fixity(store)
    assert first.total == first.checked == first.ok == 6 and first.passed
    (root / "archive" / "2010" / "r1.pdf").write_bytes(b"bit rot")
    (root / "scans" / "scan2.png").unlink()
    second = run_fixity(store)
    outcomes = {p.subject: p.outcome for p in second.problems}
    assert outcomes == {"r1": FixityOutcome.CHANGED, "f2": FixityOutcome.MISSING}
    history = PreservationStore(store.engine).fixity_checks("r1")
    assert [c.outcome for c in history] == [FixityOutcome.OK, FixityOutcome.CHANGED]
    assert all(c.agent.startswith("software:dangan/") for c in history)


def test_a_nightly_share_checks_the_longest_unchecked_first(home) -> None:
    store, _root = home
    night1 = run_fixity(store, share=0.5)
    night2 = run_fixity(store, share=0.5)
    first = {c.subject for c in PreservationStore(store.engine).fixity_checks()[:3]}
    assert night1.checked == night2.checked == 3
    later = {c.subject for c in PreservationStore(store.engine).fixity_checks()[3:]}
    assert first.isdisjoint(later) and len(first | later) == 6, "two half-nights cover everything once"


def test_due_list_and_decisions_are_an_archivists(home) -> None:
    store, _root = home
    due = destruction.due_for_appraisal(store, date(2026, 12, 31))
    assert [r.record_id for r in due] == ["r0", "r1"]
    with pytest.raises(NotPermittedError, match="archivist"):
        destruction.decide(store, "r0", AppraisalDecision.DESTROY, "到期无保存价值", "counter1", NOW)
    with pytest.raises(ConfigError, match="needs a date after"):
        destruction.decide(store, "r1", AppraisalDecision.KEEP, "仍有争议", "dang1", NOW, keep_until=date(2025, 1, 1))
    destruction.decide(store, "r1", AppraisalDecision.KEEP, "待遇争议未结", "dang1", NOW, keep_until=date(2031, 1, 1))
    assert store.get_record("r1").destroy_after == date(2031, 1, 1)
    assert [r.record_id for r in destruction.due_for_appraisal(store, date(2026, 12, 31))] == ["r0"]


def test_nothing_is_destroyed_before_its_date(home) -> None:
    store, _root = home
    destruction.decide(store, "r2", AppraisalDecision.DESTROY, "提前销毁", "dang1", NOW)
    with pytest.raises(ConfigError, match="no record is both due"):
        destruction.create_list(store, "dang1", NOW)


def test_destruction_needs_two_different_archivists(home, tmp_path: Path) -> None:
    store, root = home
    destruction.decide(store, "r0", AppraisalDecision.DESTROY, "到期无保存价值", "dang1", NOW)
    dl = destruction.create_list(store, "dang1", NOW)
    assert [i.record_id for i in dl.items] == ["r0"]
    destruction.sign(store, dl.list_id, "dang1", NOW)
    with pytest.raises(StoreConflictError, match=r"signed .* already"):
        destruction.sign(store, dl.list_id, "dang1", NOW + timedelta(minutes=1))
    with pytest.raises(NotPermittedError, match="archivist"):
        destruction.sign(store, dl.list_id, "counter1", NOW)
    pdf = Path(store.get_record("r0").pdfa_path or "")
    with pytest.raises(NotPermittedError, match="2 different archivists; it has 1"):
        destruction.execute(store, dl.list_id, "dang1", NOW, root)
    assert pdf.is_file(), "one signature destroys nothing"

    destruction.sign(store, dl.list_id, "dang2", NOW + timedelta(minutes=5))
    done = destruction.execute(store, dl.list_id, "dang2", NOW + timedelta(minutes=10), root)
    assert done.status == "executed" and done.signers == ["dang1", "dang2"]
    assert not pdf.exists()
    assert not (root / "work" / "b1" / "f0" / "000001_pp.png").exists()
    record = store.get_record("r0")
    assert record is not None and record.destroyed_on == NOW.date() and record.pdfa_path is None
    assert dl.list_id in (record.remarks or "")
    kept = PreservationStore(store.engine).get_list(dl.list_id)
    assert kept is not None and [i.archive_no for i in kept.items] == ["2010-补缴-001-0001"]
    assert (root / "archive" / "2010" / "r1.pdf").is_file(), "only what is on the list goes"
    with pytest.raises(NotPermittedError, match="executed already"):
        destruction.execute(store, dl.list_id, "dang1", NOW + timedelta(minutes=11), root)
    actions = [e.action for e in store.audit_events(record_id="r0")]
    assert "destroyed" in actions
    sheet = load_workbook(write_destruction_sheet(kept, tmp_path / "销毁清册.xlsx"))["销毁清册"]
    text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    assert "2010-补缴-001-0001" in text and "dang1、dang2" in text and "已销毁" in text


def test_a_later_keep_decision_stops_a_signed_list(home) -> None:
    store, root = home
    destruction.decide(store, "r0", AppraisalDecision.DESTROY, "到期无保存价值", "dang1", NOW)
    dl = destruction.create_list(store, "dang1", NOW)
    destruction.sign(store, dl.list_id, "dang1", NOW)
    destruction.sign(store, dl.list_id, "dang2", NOW)
    destruction.decide(store, "r0", AppraisalDecision.KEEP, "发现待遇纠纷", "dang2", NOW, keep_until=date(2036, 1, 1))
    with pytest.raises(NotPermittedError, match="kept until 2036-01-01"):
        destruction.execute(store, dl.list_id, "dang1", NOW, root)
    assert Path(store.get_record("r0").pdfa_path or "").is_file()


def _cli(home_dir: Path, db_url: str, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DANGAN_HOME": str(home_dir), "DANGAN_DB_URL": db_url, "DANGAN_PASSWORD": password}
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_commands_exit_non_zero_on_a_fixity_problem_and_a_wrong_password(home) -> None:
    store, root = home
    url = store.engine.url.render_as_string(hide_password=False)
    assert _cli(root, url, "fixity").returncode == 0
    (root / "archive" / "2010" / "r2.pdf").write_bytes(b"changed")
    failed = _cli(root, url, "fixity")
    assert failed.returncode == ExitCode.ARCHIVE and "r2.pdf" in failed.stdout + failed.stderr
    destruction.decide(store, "r0", AppraisalDecision.DESTROY, "到期无保存价值", "dang1", NOW)
    refused = _cli(root, url, "destroy", "create", "--by", "dang1", "--out", str(root / "x.xlsx"), password="wrong")
    assert refused.returncode == ExitCode.BAD_ARGS and "wrong user name or password" in refused.stderr
    made = _cli(root, url, "destroy", "create", "--by", "dang1", "--out", str(root / "x.xlsx"))
    assert made.returncode == 0, made.stderr
    assert (root / "x.xlsx").is_file()
