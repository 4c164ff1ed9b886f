"""The `dangan` command line. Exceptions become exit codes here and nowhere else."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, cast

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.errors import DanganError, DeliveryRejected, ExitCode, MissingDependencyError
from pipeline.logs import configure_logging
from pipeline.preserve.cli import appraise_app, destroy_app, fixity
from pipeline.settings import get_settings
from review.cli import audit_app, corrections_app, serve, users_app

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Dangan: scanned social-insurance archives in, PDF/A records out.",
)
qc_app = typer.Typer(no_args_is_help=True, help="The QC review queue.")
app.add_typer(qc_app, name="qc")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(corrections_app, name="corrections")
app.add_typer(appraise_app, name="appraise")
app.add_typer(destroy_app, name="destroy")
app.command("fixity")(fixity)
app.command()(serve)
console = Console()
err = Console(stderr=True)


@app.callback()
def _setup(
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING …")] = "WARNING",
    log_file: Annotated[str | None, typer.Option(help="write JSON log lines here instead of stderr")] = None,
) -> None:
    configure_logging(log_level, log_file)


@app.command()
def synth(
    out: Annotated[Path, typer.Option(help="folder to write the scans and ground_truth.json into")],
    docs: Annotated[int, typer.Option(min=1, help="number of documents")] = 20,
    seed: Annotated[int, typer.Option(help="same seed, same batch")] = 1,
    profile: Annotated[str, typer.Option(help="box, counter or mixed")] = "mixed",
    family: Annotated[
        str, typer.Option(help="generator family: pillow (drawn) or html (HTML/CSS printed by Chromium)")
    ] = "pillow",
) -> None:
    """Generate a synthetic batch of realistic scans with ground truth (needs the source tree's `synth`)."""
    # The generator is a test tool beside the product, not in its wheel: this is the one place runtime
    # code reaches for it, lazily, and tests/test_architecture.py allows exactly this import.
    try:
        from synth import main_synth
    except ModuleNotFoundError as exc:
        if exc.name != "synth":
            raise
        raise MissingDependencyError(
            "`dangan synth` needs the synthetic-batch generator (the `synth` package of the source tree), which "
            "the product wheel does not ship: in a checkout run `make venv`, or `pip install -e '.[synth]'` and "
            "put the checkout on the path (PYTHONPATH=<checkout>)"
        ) from None
    main_synth(out, docs, seed, profile, family)


@app.command()
def ingest(
    batch_dir: Annotated[Path, typer.Argument(help="the batch folder")],
    workers: Annotated[int | None, typer.Option(help="worker processes (default: one per core)")] = None,
    wait: Annotated[
        bool, typer.Option(help="if another run is ingesting the batch, wait for it instead of refusing")
    ] = False,
) -> None:
    """Run every stage over a batch folder; re-running resumes where a killed run stopped.

    Exit 11 when another run holds the batch (nothing done), 12 when files failed for a reason of ours.
    """
    from pipeline.errors import RunIncompleteError
    from pipeline.run import ingest_batch
    from pipeline.summary import failure_line, render_summary

    settings = get_settings()
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    summary = ingest_batch(batch_dir, settings, wait=wait)
    render_summary(summary, console)
    failed = failure_line(summary)
    if failed is not None:
        raise RunIncompleteError(failed)


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help="any text: a name, a title, an ID number …")] = None,
    id_number: Annotated[str | None, typer.Option("--id", help="公民身份号码, exact")] = None,
    form: Annotated[str | None, typer.Option(help="form id or title")] = None,
    year: Annotated[int | None, typer.Option(help="the record's year")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
) -> None:
    """Find records by text, ID number, form type or year."""
    from pipeline.search import open_search

    hits = open_search(get_settings()).search(query, id_number=id_number, form=form, year=year, limit=limit)
    table = Table(title=f"{len(hits)} record(s)")
    for col in ("archive no", "title", "person", "date", "snippet"):
        table.add_column(col)
    for h in hits:
        table.add_row(h.archive_no, h.title, h.person_id or "", str(h.form_date or ""), h.snippet or "")
    console.print(table)


@qc_app.command("list")
def qc_list(status: Annotated[str | None, typer.Option(help="open, claimed or done")] = "open") -> None:
    """Show the review queue with the reasons each document is in it."""
    from pipeline.store import open_store

    store = open_store(get_settings().database_url)
    try:
        tasks = store.qc_tasks(status)
        table = Table(title=f"QC queue: {len(tasks)} task(s)")
        for col in ("task", "document", "form", "audit", "fields", "reasons"):
            table.add_column(col)
        for t in tasks:
            doc = store.get_document(t.doc_id)
            where = f"{doc.rel_path} p{doc.first_page}-{doc.last_page}" if doc else t.doc_id
            table.add_row(
                t.task_id,
                where,
                (doc.form_title if doc else None) or "?",
                "yes" if t.audit_sample else "",
                ", ".join(t.fields),
                "; ".join(t.reasons)[:160],
            )
        console.print(table)
    finally:
        store.close()


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="JSON Lines file to write")],
    batch: Annotated[str | None, typer.Option(help="only this batch id")] = None,
) -> None:
    """One JSON object per document, for downstream systems."""
    from pipeline.export import export_jsonl
    from pipeline.store import open_store

    store = open_store(get_settings().database_url)
    try:
        n = export_jsonl(store, out, batch)
    finally:
        store.close()
    console.print(f"wrote {n} document(s) to {out}")


@app.command()
def reindex() -> None:
    """Rebuild the search index from the catalogue (the source of truth)."""
    from pipeline.search.catalogue_docs import reindex_all

    n = reindex_all(get_settings())
    console.print(f"indexed {n} record(s)")


@app.command()
def deliver(
    batch: Annotated[str, typer.Argument(help="batch id (see the ingest summary)")],
    out: Annotated[Path, typer.Option(help="new folder for the BagIt package")],
    vendor: Annotated[str, typer.Option(help="数字化服务机构, recorded as Source-Organization")],
    contract: Annotated[str, typer.Option(help="合同编号")],
    fonds: Annotated[str | None, typer.Option(help="全宗号 (default: the batch manifest's fonds_no)")] = None,
    contact: Annotated[str | None, typer.Option(help="contact person for the delivery")] = None,
    allow_open_review: Annotated[bool, typer.Option(help="deliver documents still in review (备注 待复核)")] = False,
) -> None:
    """Build the delivery package of a batch: PDF/A files, catalogue sheets, METS/PREMIS, QC evidence."""
    from pipeline.deliver.package import DeliveryOptions, build_package
    from pipeline.store import open_store

    opts = DeliveryOptions(
        batch_id=batch,
        out=out,
        vendor=vendor,
        contract=contract,
        fonds_no=fonds,
        contact=contact,
        allow_open_review=allow_open_review,
    )
    store = open_store(get_settings().database_url)
    try:
        result = build_package(store, opts)
    finally:
        store.close()
    console.print(
        f"package {result.bag}: {result.records} record(s) in {result.volumes} volume(s), "
        f"{result.pages} page(s), {result.payload_bytes} bytes"
    )


@app.command()
def accept(
    package: Annotated[Path, typer.Argument(help="the delivery package (a BagIt folder)")],
    report: Annotated[Path | None, typer.Option(help="write the 移交与接收登记表 (xlsx) here")] = None,
    seed: Annotated[int, typer.Option(help="seed of the random sample drawn for a human check")] = 0,
    receiver: Annotated[str, typer.Option(help="接收单位经办人")] = "",
) -> None:
    """Check a delivery package as the receiving archive does; every problem is listed."""
    from pipeline.deliver.accept import PROPERTIES, check_package
    from pipeline.deliver.acceptance_sheet import write_acceptance_sheet

    result = check_package(package, seed=seed)
    table = Table(title=f"{package}: {result.records} record(s), {result.pages} page(s)")
    for col in ("检验项目", "结果", "问题数"):
        table.add_column(col)
    for prop in PROPERTIES:
        n = sum(1 for p in result.problems if p.prop == prop)
        table.add_row(prop, "通过" if n == 0 else "不通过", str(n))
    console.print(table)
    for problem in result.problems:
        err.print(str(problem))
    if report is not None:
        write_acceptance_sheet(result, report, receiver=receiver)
        console.print(f"登记表 written to {report}; sample of {len(result.sample)} record(s) for a human check")
    if not result.passed:
        raise DeliveryRejected(f"{package}: not accepted ({len(result.problems)} problem(s))")


@app.command()
def report(
    batch: Annotated[str, typer.Argument(help="batch id (see the ingest summary)")],
    out: Annotated[Path, typer.Option(help="folder for qc-report-<batch>.html and .pdf")] = Path("reports"),
    pdf: Annotated[bool, typer.Option(help="also print the report to PDF (needs chromium)")] = True,
) -> None:
    """The batch QC report: speed, form types, straight-through share, review reasons, confidences, audit sample."""
    from pipeline.reports.qc_report import write_report
    from pipeline.store import open_store

    store = open_store(get_settings().database_url)
    try:
        written = write_report(store, batch, out, pdf=pdf)
    finally:
        store.close()
    for path in written:
        console.print(f"wrote {path}")


@app.command()
def backup(
    to: Annotated[Path, typer.Option(help="backup target folder (one sub-folder per set)")],
    kind: Annotated[str, typer.Option(help="auto (weekly full, daily incremental), full or incremental")] = "auto",
) -> None:
    """Back up the catalogue and the archive files (full or incremental)."""
    from pipeline.preserve.backup import BackupKind, make_backup

    if kind not in ("auto", "full", "incremental"):
        raise typer.BadParameter("kind is auto, full or incremental")
    settings = get_settings()
    manifest = make_backup(settings.database_url, settings.home / "archive", to, cast(BackupKind, kind))
    held = sum(1 for f in manifest.files.values() if f.held_by == manifest.name)
    console.print(f"{manifest.kind} backup {to / manifest.name}: catalogue and {held} of {len(manifest.files)} files")


@app.command()
def restore(
    source: Annotated[Path, typer.Option("--from", help="the backup target folder")],
    home: Annotated[Path, typer.Option(help="new data folder to restore into (archive/ and the catalogue)")],
    name: Annotated[str | None, typer.Option("--set", help="backup set name (default: the newest)")] = None,
) -> None:
    """Restore archive files and the catalogue copy from a backup, verifying every file's SHA-256."""
    from pipeline.preserve.backup import backup_sets
    from pipeline.preserve.backup import restore as do_restore

    sets = {s.name: s for s in backup_sets(source)}
    chosen = sets.get(name) if name else (list(sets.values())[-1] if sets else None)
    catalogue = "catalogue.pgdump" if chosen and chosen.catalogue.endswith(".pgdump") else "catalogue.sqlite"
    result = do_restore(source, home / "archive", home / catalogue, name)
    console.print(f"restored {result.files} file(s) and {result.catalogue} from {result.backup}")
    if catalogue.endswith(".pgdump"):
        console.print(f"load the catalogue with: pg_restore --clean --if-exists -d <database> {result.catalogue}")


@app.command()
def yearly(
    year: Annotated[int, typer.Argument(help="the year (by 扫描日期, the day records were received)")],
    out: Annotated[Path, typer.Option(help="xlsx file to write")] = Path("统计年报表.xlsx"),
) -> None:
    """The 统计年报表: records and pages received by category, 险种 and retention; lending; destruction."""
    from pipeline.reports.yearly import write_yearly, yearly_stats
    from pipeline.store import open_store

    store = open_store(get_settings().database_url)
    try:
        stats = yearly_stats(store, year)
    finally:
        store.close()
    write_yearly(stats, out)
    console.print(f"{year}: {stats.records} record(s), {stats.pages} page(s) received; written to {out}")


def main() -> None:
    try:
        app(standalone_mode=False)
    except DanganError as e:
        # escaped: messages hold paths and extras in brackets (.[synth]) that rich would read as markup
        err.print(f"[red]error:[/red] {escape(e.message)}")
        sys.exit(int(e.exit_code))
    except ValidationError as e:
        err.print(f"[red]configuration error:[/red] {escape(str(e))}")
        sys.exit(int(ExitCode.CONFIG))
    except (typer.Exit, typer.Abort) as e:
        sys.exit(getattr(e, "exit_code", 1))
    except KeyboardInterrupt:
        sys.exit(int(ExitCode.CTRL_C))
    except Exception as e:
        import click

        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(int(ExitCode.BAD_ARGS))
        raise


if __name__ == "__main__":
    main()
