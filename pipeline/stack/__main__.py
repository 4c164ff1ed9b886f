"""`python -m pipeline.stack up|down|status|trigger` (what scripts/airflow-local.sh runs)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from pipeline.errors import DanganError
from pipeline.logs import configure_logging
from pipeline.stack.config import StackConfig
from pipeline.stack.processes import LocalStack, alive

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="A local Airflow stack running Dangan's DAGs.",
)
StateDir = Annotated[Path, typer.Option(help="where the stack keeps AIRFLOW_HOME, logs, pids and secrets")]
DEFAULT_STATE = Path("./airflow-local")


@app.command()
def up(
    state_dir: StateDir = DEFAULT_STATE,
    workers: Annotated[int, typer.Option(min=0, help="Celery workers")] = 1,
    concurrency: Annotated[int, typer.Option(min=1, help="task slots per worker (one OCR engine each)")] = 2,
    name: Annotated[str, typer.Option(help="prefix of the databases and the Celery queue")] = "dangan",
    home: Annotated[Path, typer.Option(help="DANGAN_HOME of the tasks")] = Path("./dangan-data"),
    drop_dir: Annotated[Path, typer.Option(help="DANGAN_DROP_DIR of the nightly DAG")] = Path("./dangan-drop"),
    engine: Annotated[str, typer.Option(help="rapidocr, tesseract or null")] = "rapidocr",
    api_port: Annotated[int, typer.Option(help="0 = a free port")] = 8080,
    redis_url: Annotated[str, typer.Option()] = "redis://127.0.0.1:6379/0",
) -> None:
    """Create the databases, migrate, start every component and the workers, make the `ocr` pool."""
    path = state_dir.resolve()
    if (path / "stack.json").exists():
        cfg = LocalStack.load(path).cfg.model_copy(update={"workers": workers, "worker_concurrency": concurrency})
    else:
        cfg = StackConfig.model_validate(
            {
                "name": name, "state_dir": path, "dangan_home": home.resolve(), "drop_dir": drop_dir.resolve(),
                "workers": workers, "worker_concurrency": concurrency, "ocr_engine": engine,
                "api_port": api_port, "redis_url": redis_url,
            }
        )  # fmt: skip
    stack = LocalStack(cfg)
    stack.up()
    typer.echo(f"Airflow UI and API: {stack.cfg.api_url} (user admin, password in {path / 'passwords.json'})")
    typer.echo(f"logs: {path / 'logs'}; the DAGs are paused until `trigger` (or the UI) unpauses them")


@app.command()
def down(
    state_dir: StateDir = DEFAULT_STATE,
    drop_databases: Annotated[bool, typer.Option(help="also drop the Airflow and catalogue databases")] = False,
) -> None:
    """Stop workers first, then the scheduler, dag-processor and api-server."""
    LocalStack.load(state_dir.resolve()).down(drop_databases=drop_databases)


@app.command()
def status(state_dir: StateDir = DEFAULT_STATE) -> None:
    """Each component's pid (or `down`), and the API server's health."""
    stack = LocalStack.load(state_dir.resolve())
    for component, pid in stack.status().items():
        typer.echo(f"{component:<14} {pid if pid else 'down'}")
    try:
        typer.echo(json.dumps(stack.api().health(), indent=1))
    except DanganError as e:
        typer.echo(f"api-server: {e.message}")


@app.command()
def watch(
    owner: Annotated[int, typer.Option(help="the process whose end takes the stack down")],
    state_dir: StateDir = DEFAULT_STATE,
    drop_databases: Annotated[bool, typer.Option(help="also drop the stack's databases")] = False,
) -> None:
    """Wait for `owner` to exit, then take the stack down (a killed test session leaves nothing running)."""
    path = state_dir.resolve()
    while not (path / "stack.json").exists():
        if not alive(owner):
            return
        time.sleep(1.0)
    LocalStack.load(path).watch(owner, drop_databases=drop_databases)


@app.command()
def trigger(
    batch_dir: Annotated[Path, typer.Argument(help="the batch folder, as the workers see it")],
    state_dir: StateDir = DEFAULT_STATE,
    wait: Annotated[float, typer.Option(help="seconds to wait for the run to finish; 0 = do not wait")] = 0.0,
) -> None:
    """Unpause dangan_backlog and trigger it on a batch folder."""
    api = LocalStack.load(state_dir.resolve()).api()
    api.set_paused("dangan_backlog", False)
    run = api.trigger("dangan_backlog", {"batch_dir": str(batch_dir.resolve())})
    typer.echo(run.run_id)
    if wait > 0:
        done = api.wait("dangan_backlog", run.run_id, wait)
        typer.echo(done.state)
        if done.state != "success":
            raise typer.Exit(1)


def main() -> None:
    configure_logging("INFO")
    try:
        app()
    except DanganError as e:
        typer.echo(f"error: {e.message}", err=True)
        sys.exit(int(e.exit_code))


if __name__ == "__main__":
    main()
