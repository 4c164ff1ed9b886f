"""`dangan serve`, `dangan users …` and `dangan audit …`: the review application's command line."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipeline.errors import StoreError
from pipeline.settings import get_settings
from schemas.access import Role, User
from schemas.models import AuditEvent

if TYPE_CHECKING:
    from pipeline.store import CatalogueStore
    from pipeline.store.accounts import AccountStore

users_app = typer.Typer(no_args_is_help=True, help="Accounts of the review application.")
audit_app = typer.Typer(no_args_is_help=True, help="The audit trail of every read and change.")
corrections_app = typer.Typer(no_args_is_help=True, help="Reviewers' corrections as labelled data.")
console = Console()
PASSWORD_ENV = "DANGAN_NEW_PASSWORD"


def serve(
    host: Annotated[str | None, typer.Option(help="default: settings review.host (127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="default: settings review.port (8000)")] = None,
) -> None:
    """Run the review web application on the configured catalogue (the SQLite file by default)."""
    import uvicorn

    settings = get_settings()
    _open().close()  # a wrong database URL fails here, with its reason
    # No access log: request lines would carry ID numbers searched for; the audit trail has every read.
    uvicorn.run(
        "review.app:create_app",
        factory=True,
        host=host or settings.review.host,
        port=port or settings.review.port,
        access_log=False,
        proxy_headers=True,
    )


def _open() -> CatalogueStore:
    # The store (SQLAlchemy, Alembic) loads only for the commands that use it: `dangan --help` stays quick.
    from pipeline.store import open_store

    return open_store(get_settings().database_url)


def _accounts(store: CatalogueStore) -> AccountStore:
    from pipeline.store.accounts import AccountStore

    return AccountStore(store.engine)


def _read_password() -> str:
    env = os.environ.get(PASSWORD_ENV)
    if env:
        return env
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = typer.prompt("password", hide_input=True)
    if typer.prompt("again", hide_input=True) != first:
        raise typer.BadParameter("the two passwords differ")
    return str(first)


def _system_event(action: str, username: str, why: str, old: str | None = None, new: str | None = None) -> AuditEvent:
    return AuditEvent(
        at=datetime.now(UTC), actor=f"cli:{os.environ.get('USER', 'unknown')}", action=action,
        field="role" if new else None, old=old, new=new, why=why, client="local",
    )  # fmt: skip


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="login name: letters, digits, _ . @ -")],
    role: Annotated[Role, typer.Option(help="admin, archivist, reviewer, counter or insured")],
    name: Annotated[str | None, typer.Option(help="display name (default: the login name)")] = None,
    id_number: Annotated[str | None, typer.Option("--id-number", help="an insured person's own 公民身份号码")] = None,
) -> None:
    """Add an account. The password is read from $DANGAN_NEW_PASSWORD, else standard input, else a prompt."""
    from review.security import hash_password

    if role is Role.INSURED and not id_number:
        raise typer.BadParameter("an insured account needs --id-number: it only ever sees records with that number")
    try:
        password_hash = hash_password(_read_password())
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    store = _open()
    try:
        user = User(username=username, display_name=name or username, role=role, id_number=id_number,
                    created_at=datetime.now(UTC))  # fmt: skip
        _accounts(store).add_user(user, password_hash)
        store.record_audit(_system_event("user_add", username, f"account {username}", new=role.value))
    finally:
        store.close()
    console.print(f"added {username} ({role.value})")


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument()]) -> None:
    """Disable an account and end its sessions; its audit history stays."""
    store = _open()
    try:
        _accounts(store).update_user(username, datetime.now(UTC), active=False)
        store.record_audit(_system_event("user_disable", username, f"account {username}"))
    finally:
        store.close()
    console.print(f"disabled {username}")


@users_app.command("list")
def users_list() -> None:
    """Show every account with its role and whether it is active."""
    store = _open()
    try:
        users = _accounts(store).users()
    finally:
        store.close()
    table = Table(title=f"{len(users)} account(s)")
    for col in ("user", "name", "role", "active"):
        table.add_column(col)
    for u in users:
        table.add_row(u.username, u.display_name, u.role.value, "yes" if u.active else "no")
    console.print(table)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the hash chain; names every removed or edited entry and exits non-zero when one is found."""
    store = _open()
    try:
        report = store.verify_audit()
    finally:
        store.close()
    if report.intact:
        console.print(f"audit trail intact: {report.entries} entries, head hash {report.head_hash}")
        return
    for b in report.breaks:
        console.print(f"[red]broken:[/red] {b.problem}")
    raise StoreError(f"audit trail broken in {len(report.breaks)} place(s) of {report.entries} entries")


@audit_app.command("export")
def audit_export(out: Annotated[Path, typer.Option(help="JSON Lines file to write")]) -> None:
    """Every audit entry, oldest first, one JSON object a line."""
    store = _open()
    try:
        events = store.audit_events()
    finally:
        store.close()
    with out.open("w", encoding="utf-8") as f:
        for e in events:
            f.write(json.dumps(e.model_dump(mode="json"), ensure_ascii=False) + "\n")
    console.print(f"wrote {len(events)} audit entries to {out}")


@corrections_app.command("export")
def corrections_export(
    out: Annotated[Path, typer.Option(help="JSON Lines file to write (bench/calibrate.py --corrections reads it)")],
    batch: Annotated[str | None, typer.Option(help="only this batch's corrections")] = None,
) -> None:
    """Every reviewed field (confirmed or corrected) with the machine's reading, features and the truth."""
    from pipeline.store.review_save import ReviewSaver
    from review.labels import label_lines

    store = _open()
    try:
        corrections = ReviewSaver(store.engine).corrections(batch)
        with out.open("w", encoding="utf-8") as f:
            f.writelines(label_lines(corrections))
        store.record_audit(
            AuditEvent(
                at=datetime.now(UTC), actor=f"cli:{os.environ.get('USER', 'unknown')}", action="export_labels",
                why=f"{len(corrections)} reviewed field(s) of {batch or 'every batch'} to {out.name}", client="local",
            )
        )  # fmt: skip
    finally:
        store.close()
    console.print(f"wrote {len(corrections)} reviewed fields to {out}")


__all__ = ["audit_app", "corrections_app", "serve", "users_app"]
