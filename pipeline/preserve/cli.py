"""`dangan fixity`, `dangan appraise …` and `dangan destroy …`: preservation from the command line.

Appraisal and destruction act in an archivist's name: the account's password is asked for (or read from
DANGAN_PASSWORD for scripted use), so a signature on a 销毁清册 is that person's, not the shell user's.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from pipeline.errors import DanganError, ExitCode, NotPermittedError
from pipeline.settings import get_settings

console = Console()
appraise_app = typer.Typer(no_args_is_help=True, help="到期鉴定: records due for appraisal, and decisions.")
destroy_app = typer.Typer(no_args_is_help=True, help="销毁: destruction lists, two archivists' signatures.")


class FixityFailed(DanganError):
    exit_code = ExitCode.ARCHIVE


def _authenticated(username: str) -> str:
    """The username, once its password is verified against the catalogue's accounts."""
    from pipeline.store import open_store
    from pipeline.store.accounts import AccountStore
    from review.security import verify_password

    password = os.environ.get("DANGAN_PASSWORD") or typer.prompt(f"password for {username}", hide_input=True)
    store = open_store(get_settings().database_url)
    try:
        ok = verify_password(AccountStore(store.engine).password_hash(username), password)
    finally:
        store.close()
    if not ok:
        raise NotPermittedError(f"{username}: wrong user name or password")
    return username


def fixity(
    share: Annotated[float, typer.Option(min=0.0, max=1.0, help="share of files to check (oldest checks first)")] = 1.0,
) -> None:
    """Re-verify the SHA-256 of every original scan and PDF/A (or a rolling share); exit non-zero on a problem."""
    from pipeline.preserve.fixity import run_fixity
    from pipeline.store import open_store

    store = open_store(get_settings().database_url)
    try:
        with Progress(transient=True, console=console) as progress:
            progress.add_task("fixity", total=None)
            report = run_fixity(store, share)
    finally:
        store.close()
    console.print(f"fixity: {report.checked} of {report.total} files checked, {report.ok} intact")
    if report.problems:
        table = Table(title="[red]files that failed their fixity check")
        for col in ("kind", "file", "outcome"):
            table.add_column(col)
        for p in report.problems:
            table.add_row(p.kind, p.path, p.outcome.value)
        console.print(table)
        raise FixityFailed(f"{len(report.problems)} file(s) changed, missing or unreadable")


@appraise_app.command("list")
def appraise_list(
    by: Annotated[str, typer.Option(help="due on or before this date (YYYY-MM-DD); default one year from today")] = "",
) -> None:
    """Records whose retention ends by a date: the 到期鉴定 list."""
    from pipeline.preserve.destruction import due_for_appraisal
    from pipeline.store import open_store

    until = date.fromisoformat(by) if by else date.today().replace(year=date.today().year + 1)
    store = open_store(get_settings().database_url)
    try:
        due = due_for_appraisal(store, until)
    finally:
        store.close()
    table = Table(title=f"{len(due)} record(s) due by {until}")
    for col in ("record", "archive no", "title", "retention", "due"):
        table.add_column(col)
    for r in due:
        table.add_row(
            r.record_id, r.archive_no, r.title, r.retention.value if r.retention else "", str(r.destroy_after)
        )
    console.print(table)


@appraise_app.command("decide")
def appraise_decide(
    record: Annotated[str, typer.Argument(help="record id")],
    by: Annotated[str, typer.Option(help="the archivist's account")],
    reason: Annotated[str, typer.Option(help="鉴定意见")],
    destroy: Annotated[bool, typer.Option("--destroy/--keep", help="destroy, or keep longer")] = True,
    keep_until: Annotated[str | None, typer.Option(help="with --keep: the new date (YYYY-MM-DD)")] = None,
) -> None:
    """Record an archivist's appraisal of one record."""
    from pipeline.preserve.destruction import decide
    from pipeline.store import open_store
    from schemas.preservation import AppraisalDecision

    user = _authenticated(by)
    store = open_store(get_settings().database_url)
    try:
        decision = AppraisalDecision.DESTROY if destroy else AppraisalDecision.KEEP
        until = date.fromisoformat(keep_until) if keep_until else None
        decide(store, record, decision, reason, user, datetime.now(UTC), until)
    finally:
        store.close()
    console.print(f"{record}: {decision.value} ({reason})")


@destroy_app.command("create")
def destroy_create(
    by: Annotated[str, typer.Option(help="the archivist making the list")],
    out: Annotated[Path, typer.Option(help="write the 销毁清册 (xlsx) here")] = Path("销毁清册.xlsx"),
) -> None:
    """Make the 销毁清册 of every record appraised for destruction whose date has come."""
    from pipeline.preserve.destruction import create_list
    from pipeline.preserve.destruction_sheet import write_destruction_sheet
    from pipeline.store import open_store

    user = _authenticated(by)
    store = open_store(get_settings().database_url)
    try:
        dl = create_list(store, user, datetime.now(UTC))
    finally:
        store.close()
    write_destruction_sheet(dl, out)
    console.print(f"destruction list {dl.list_id}: {len(dl.items)} record(s); 清册 written to {out}")


@destroy_app.command("sign")
def destroy_sign(
    list_id: Annotated[str, typer.Argument(help="the destruction list")],
    by: Annotated[str, typer.Option(help="the signing archivist")],
) -> None:
    """Sign a destruction list (two different archivists must sign before it can be executed)."""
    from pipeline.preserve.destruction import sign
    from pipeline.store import open_store

    user = _authenticated(by)
    store = open_store(get_settings().database_url)
    try:
        dl = sign(store, list_id, user, datetime.now(UTC))
    finally:
        store.close()
    console.print(f"{list_id} signed by {', '.join(dl.signers)}")


@destroy_app.command("execute")
def destroy_execute(
    list_id: Annotated[str, typer.Argument(help="the signed destruction list")],
    by: Annotated[str, typer.Option(help="the archivist carrying it out")],
    out: Annotated[Path | None, typer.Option(help="write the executed 销毁清册 (xlsx) here")] = None,
) -> None:
    """Destroy the files of a list signed by two archivists; the catalogue entries and the list remain."""
    from pipeline.preserve.destruction import execute
    from pipeline.preserve.destruction_sheet import write_destruction_sheet
    from pipeline.store import open_store

    user = _authenticated(by)
    settings = get_settings()
    store = open_store(settings.database_url)
    try:
        dl = execute(store, list_id, user, datetime.now(UTC), settings.home)
    finally:
        store.close()
    if out is not None:
        write_destruction_sheet(dl, out)
    console.print(f"{list_id}: {len(dl.items)} record(s) destroyed on {dl.executed_at:%Y-%m-%d}")
