"""Appraisal at expiry (到期鉴定) and destruction under two archivists' signatures (seed 001 篇四, DA/T 36).

- `due_for_appraisal`: records whose retention ends by a date (e.g. within the coming year).
- `decide`: an archivist's decision per record: destroy, or keep longer with a new date and a reason.
- `create_list`: the 销毁清册 of every record decided for destruction whose date has come.
- `sign`: an archivist signs the list; `execute` needs two different archivists' signatures, refuses any
  record whose date has not come (or whose decision changed), removes the files, and keeps the catalogue
  entry (marked destroyed) and the list for ever.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

from pipeline.errors import ConfigError, NotPermittedError
from pipeline.store import CatalogueStore
from pipeline.store.accounts import AccountStore
from pipeline.store.preservation import PreservationStore
from schemas.access import Role, User
from schemas.models import ArchiveRecord
from schemas.preservation import Appraisal, AppraisalDecision, DestructionItem, DestructionList

log = logging.getLogger(__name__)
SIGNATURES_NEEDED = 2


def _archivist(catalogue: CatalogueStore, username: str) -> User:
    user = AccountStore(catalogue.engine).get_user(username)
    if user is None or not user.active:
        raise NotPermittedError(f"{username}: no active account")
    if user.role is not Role.ARCHIVIST:
        raise NotPermittedError(f"{username} is {user.role.value}; appraisal and destruction are an archivist's")
    return user


def due_for_appraisal(catalogue: CatalogueStore, by: date) -> list[ArchiveRecord]:
    """Records not yet destroyed whose retention ends on or before `by` (permanent ones never)."""
    return sorted(
        (
            r
            for r in catalogue.records()
            if r.destroy_after is not None and r.destroy_after <= by and r.destroyed_on is None
        ),
        key=lambda r: (r.destroy_after or date.max, r.archive_no),
    )


def decide(
    catalogue: CatalogueStore,
    record_id: str,
    decision: AppraisalDecision,
    reason: str,
    by: str,
    now: datetime,
    keep_until: date | None = None,
) -> Appraisal:
    _archivist(catalogue, by)
    record = catalogue.get_record(record_id)
    if record is None:
        raise ConfigError(f"record {record_id} is not in the catalogue")
    if record.destroy_after is None:
        raise NotPermittedError(
            f"{record.archive_no} is kept permanently (永久); it is never appraised for destruction"
        )
    if decision is AppraisalDecision.KEEP:
        if keep_until is None or keep_until <= record.destroy_after:
            raise ConfigError(f"{record.archive_no}: keeping longer needs a date after {record.destroy_after}")
        catalogue.save_record(record.model_copy(update={"destroy_after": keep_until}))
    appraisal = Appraisal(
        record_id=record_id,
        decision=decision,
        reason=reason,
        keep_until=keep_until if decision is AppraisalDecision.KEEP else None,
        decided_by=by,
        decided_at=now,
    )
    PreservationStore(catalogue.engine).decide(appraisal)
    return appraisal


def create_list(catalogue: CatalogueStore, by: str, now: datetime) -> DestructionList:
    _archivist(catalogue, by)
    preservation = PreservationStore(catalogue.engine)
    decisions = preservation.appraisals()
    today = now.date()
    items = [
        DestructionItem(
            record_id=r.record_id,
            archive_no=r.archive_no,
            title=r.title,
            form_date=r.form_date,
            retention=r.retention.value if r.retention else "",
            destroy_after=r.destroy_after,
            person_id=r.person_id,
            pdfa_path=r.pdfa_path,
            sha256=r.sha256,
            reason=decisions[r.record_id].reason,
        )
        for r in due_for_appraisal(catalogue, today)
        if r.destroy_after is not None
        and r.record_id in decisions
        and decisions[r.record_id].decision is AppraisalDecision.DESTROY
    ]
    if not items:
        raise ConfigError(f"no record is both due by {today} and appraised for destruction")
    dl = DestructionList(list_id=f"XH-{now:%Y%m%d%H%M%S}", created_by=by, created_at=now, status="open", items=items)
    preservation.create_list(dl)
    return dl


def sign(catalogue: CatalogueStore, list_id: str, by: str, now: datetime) -> DestructionList:
    _archivist(catalogue, by)
    preservation = PreservationStore(catalogue.engine)
    preservation.sign(list_id, by, now)
    signed = preservation.get_list(list_id)
    if signed is None:
        raise ConfigError(f"destruction list {list_id} does not exist")
    return signed


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def execute(catalogue: CatalogueStore, list_id: str, by: str, now: datetime, home: Path) -> DestructionList:
    """Destroy the files of every record on a signed list; refuses the whole list if any rule fails."""
    _archivist(catalogue, by)
    preservation = PreservationStore(catalogue.engine)
    dl = preservation.get_list(list_id)
    if dl is None:
        raise ConfigError(f"destruction list {list_id} does not exist")
    if dl.status != "open":
        raise NotPermittedError(f"destruction list {list_id} was executed already ({dl.executed_at})")
    accounts = AccountStore(catalogue.engine)
    valid = sorted(
        {s for s in dl.signers if (u := accounts.get_user(s)) is not None and u.active and u.role is Role.ARCHIVIST}
    )
    if len(valid) < SIGNATURES_NEEDED:
        raise NotPermittedError(
            f"destruction list {list_id} needs the signatures of {SIGNATURES_NEEDED} different archivists; "
            f"it has {len(valid)} ({', '.join(valid) or 'none'})"
        )
    decisions = preservation.appraisals()
    today = now.date()
    refused: list[str] = []
    records: list[ArchiveRecord] = []
    for item in dl.items:
        record = catalogue.get_record(item.record_id)
        decision = decisions.get(item.record_id)
        if record is None:
            refused.append(f"{item.archive_no}: no longer in the catalogue")
        elif record.destroy_after is None or record.destroy_after > today:
            refused.append(f"{item.archive_no}: kept until {record.destroy_after or '永久'}")
        elif decision is None or decision.decision is not AppraisalDecision.DESTROY:
            refused.append(f"{item.archive_no}: the appraisal no longer says destroy")
        else:
            records.append(record)
    if refused:
        raise NotPermittedError(f"destruction list {list_id} cannot be executed:\n  " + "\n  ".join(refused))
    archive_root = home / "archive"
    for record in records:
        if record.pdfa_path:
            pdf = Path(record.pdfa_path)
            if not _inside(pdf, archive_root):
                raise NotPermittedError(f"{record.archive_no}: {pdf} is outside the archive folder; not removed")
            pdf.unlink(missing_ok=True)
        doc = catalogue.get_document(record.doc_id)
        if doc is not None:
            # The working images hold the same pages: they go too.
            folder = home / "work" / doc.batch_id / doc.file_id
            for page in range(doc.first_page, doc.last_page + 1):
                for image in folder.glob(f"{page:06d}_*"):
                    image.unlink(missing_ok=True)
        note = f"已于{today.isoformat()}依销毁清册{list_id}销毁"
        catalogue.save_record(
            record.model_copy(
                update={
                    "pdfa_path": None,
                    "destroyed_on": today,
                    "remarks": "；".join(x for x in (record.remarks, note) if x),
                }
            )
        )
        log.info("destroyed %s under list %s", record.archive_no, list_id)
    preservation.mark_executed(list_id, by, now, [r.record_id for r in records])
    done = preservation.get_list(list_id)
    if done is None:
        raise ConfigError(f"destruction list {list_id} vanished while it was executed")
    return done
