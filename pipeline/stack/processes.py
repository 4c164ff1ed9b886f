"""Start, watch and stop the processes of a local Airflow stack (api-server, scheduler, dag-processor,
Celery workers), each in its own process group so that killing one takes its children with it, as a
dead machine would.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

from pipeline.errors import ConfigError
from pipeline.stack.api import AirflowApi, ApiError
from pipeline.stack.config import StackConfig, StackSecrets, stack_env, write_passwords

log = logging.getLogger(__name__)

DANGAN_DAGS = ("dangan_backlog", "dangan_counter_nightly")
CORE = ("api-server", "scheduler", "dag-processor")


class StackError(ConfigError):
    """A component did not start or answer; its log file says why."""


def _airflow() -> str:
    return str(Path(sys.executable).parent / "airflow")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by us) is dead for our purposes.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
            return False
    return True


class LocalStack:
    def __init__(self, cfg: StackConfig) -> None:
        self.cfg = cfg
        self.keys = StackSecrets.load_or_create(cfg.state_dir)
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._log_offsets: dict[str, int] = {}

    # ---- state on disk ----------------------------------------------------------------------

    @classmethod
    def load(cls, state_dir: Path) -> LocalStack:
        path = state_dir / "stack.json"
        if not path.exists():
            raise StackError(f"{state_dir}: no stack here (run `up` first)")
        return cls(StackConfig.model_validate_json(path.read_text(encoding="utf-8")))

    def _save(self) -> None:
        (self.cfg.state_dir / "stack.json").write_text(self.cfg.model_dump_json(indent=2), encoding="utf-8")

    def _pid_file(self, name: str) -> Path:
        return self.cfg.state_dir / "pids" / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.cfg.state_dir / "logs" / f"{name}.log"

    def pid(self, name: str) -> int | None:
        path = self._pid_file(name)
        if not path.exists():
            return None
        pid = int(path.read_text().strip())
        return pid if alive(pid) else None

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, **stack_env(self.cfg, self.keys)}

    def api(self) -> AirflowApi:
        return AirflowApi(self.cfg.api_url, "admin", self.keys.admin_password)

    def worker_names(self) -> list[str]:
        return [f"worker-{i}" for i in range(1, self.cfg.workers + 1)]

    # ---- one component ------------------------------------------------------------------------

    def _command(self, name: str) -> list[str]:
        if name == "api-server":
            return [_airflow(), "api-server", "--host", "127.0.0.1", "--port", str(self.cfg.api_port), "-w", "2"]
        if name in ("scheduler", "dag-processor"):
            return [_airflow(), name]
        if name.startswith("worker-"):
            host = f"{self.cfg.name}-{name}@%h"
            # Logs are files under AIRFLOW_HOME that the API server reads itself: no log server port.
            return [_airflow(), "celery", "worker", "-q", self.cfg.queue, "-H", host, "--skip-serve-logs"]
        raise StackError(f"unknown component {name!r} (api-server, scheduler, dag-processor, worker-N)")

    def start(self, name: str) -> int:
        """Start one component in its own process group; its output goes to logs/<name>.log."""
        if (pid := self.pid(name)) is not None:
            return pid
        command = self._command(name)
        self.log_file(name).parent.mkdir(parents=True, exist_ok=True)
        self._pid_file(name).parent.mkdir(parents=True, exist_ok=True)
        self._log_offsets[name] = self.log_file(name).stat().st_size if self.log_file(name).exists() else 0
        with self.log_file(name).open("ab") as out:
            out.write(f"\n==== start {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(command)}\n".encode())
            out.flush()
            proc = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env, cwd=self.cfg.state_dir, start_new_session=True,
            )  # fmt: skip
        self._children[name] = proc
        self._pid_file(name).write_text(str(proc.pid))
        log.info("started %s (pid %d)", name, proc.pid)
        return proc.pid

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Signal the component's whole process group (its pool and task processes too)."""
        pid = self.pid(name)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        if sig == signal.SIGKILL:
            self._reap(name, pid, 10.0)

    def stop(self, name: str, grace: float = 20.0) -> None:
        self._stop_all([name], grace)

    def _reap(self, name: str, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        child = self._children.get(name)
        while time.monotonic() < deadline:
            if child is not None and child.poll() is not None:
                break
            if child is None and not alive(pid):
                break
            time.sleep(0.2)
        else:
            return False
        # Children of the group (task processes) may outlive the leader by a moment.
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.2)
        return True

    def _log_tail(self, name: str, lines: int = 30) -> str:
        path = self.log_file(name)
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def _wait(self, what: str, name: str, check: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid(name) is None:
                raise StackError(f"{name} exited while {what}; {self.log_file(name)}:\n{self._log_tail(name)}")
            try:
                if check():
                    return
            except ApiError:
                pass
            time.sleep(1.0)
        raise StackError(f"{name}: not {what} after {timeout:.0f} s; {self.log_file(name)}:\n{self._log_tail(name)}")

    def wait_worker(self, name: str, timeout: float = 180.0) -> None:
        """Return once the worker started last by `start` consumes its queue."""
        path = self.log_file(name)
        offset = self._log_offsets.get(name, 0)

        def ready() -> bool:
            with path.open("rb") as f:
                f.seek(offset)
                return b" ready." in f.read()

        self._wait("ready", name, ready, timeout)

    def start_worker(self, name: str, timeout: float = 180.0) -> None:
        self.start(name)
        self.wait_worker(name, timeout)

    # ---- the whole stack ------------------------------------------------------------------------

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(
            host=self.cfg.pg_host, port=self.cfg.pg_port, user=self.cfg.pg_user, dbname="postgres",
            autocommit=True, connect_timeout=5,
        )  # fmt: skip

    def _create_databases(self) -> None:
        with self._admin() as admin:
            for db in (self.cfg.airflow_db, self.cfg.catalogue_db):
                if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone() is None:
                    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))

    def drop_databases(self) -> None:
        with self._admin() as admin:
            for db in (self.cfg.airflow_db, self.cfg.catalogue_db):
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))

    def _migrate(self) -> None:
        out = subprocess.run(
            [_airflow(), "db", "migrate"], env=self.env, cwd=self.cfg.state_dir, capture_output=True, text=True,
            timeout=600, check=False,
        )  # fmt: skip
        self.log_file("migrate").parent.mkdir(parents=True, exist_ok=True)
        self.log_file("migrate").write_text(out.stdout + out.stderr, encoding="utf-8")
        if out.returncode != 0:
            raise StackError(f"airflow db migrate failed ({self.log_file('migrate')}):\n{out.stderr[-3000:]}")
        from pipeline.store import open_store

        open_store(self.cfg.pg_url(self.cfg.catalogue_db)).close()

    def up(self, timeout: float = 300.0) -> None:
        """Databases, schema, every component, the `ocr` pool; returns once the DAGs are parsed and
        every worker is ready."""
        self.cfg.state_dir.mkdir(parents=True, exist_ok=True)
        self.cfg = self.cfg.with_ports()
        self._save()
        write_passwords(self.cfg, self.keys)
        for folder in (self.cfg.dangan_home, self.cfg.drop_dir, self.cfg.airflow_home):
            folder.mkdir(parents=True, exist_ok=True)
        self._create_databases()
        self._migrate()
        for name in (*CORE, *self.worker_names()):
            self.start(name)
        api = self.api()
        self._wait("answering", "api-server", lambda: api.health()["metadatabase"]["status"] == "healthy", timeout)
        api.set_pool("ocr", self.cfg.slots, "OCR and PDF/A engine slots")
        self._wait("parsing the DAGs", "dag-processor", lambda: set(DANGAN_DAGS) <= set(api.dag_ids()), timeout)
        self._wait("heartbeating", "scheduler", lambda: api.health()["scheduler"]["status"] == "healthy", timeout)
        for name in self.worker_names():
            self.wait_worker(name, timeout)

    def down(self, drop_databases: bool = False, grace: float = 20.0) -> None:
        """Workers first, so no task is left half-done by a scheduler that went away; then the rest.
        Each group is signalled at once and waited for together."""
        names = sorted(p.stem for p in (self.cfg.state_dir / "pids").glob("*.pid"))
        workers = [n for n in names if n.startswith("worker-")]
        for group in (workers, [n for n in names if n not in workers]):
            self._stop_all(group, grace)
        if drop_databases:
            self.drop_databases()

    def _stop_all(self, names: list[str], grace: float = 20.0) -> None:
        pids = {name: pid for name in names if (pid := self.pid(name)) is not None}
        for pid in pids.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for name, pid in pids.items():
            if not self._reap(name, pid, max(0.5, deadline - time.monotonic())):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                self._reap(name, pid, 10.0)
        for name in names:
            self._pid_file(name).unlink(missing_ok=True)

    def watch(self, owner_pid: int, drop_databases: bool = False, poll: float = 2.0) -> None:
        """Take the stack down once process `owner_pid` is gone: a test session killed from outside
        (a timeout, SIGKILL) must not leave a scheduler and workers running for ever."""
        while alive(owner_pid):
            time.sleep(poll)
        log.warning("owner %d is gone: taking the stack in %s down", owner_pid, self.cfg.state_dir)
        self.down(drop_databases=drop_databases, grace=5.0)

    def status(self) -> dict[str, int | None]:
        names = [*CORE, *self.worker_names()]
        extra = sorted(p.stem for p in (self.cfg.state_dir / "pids").glob("*.pid") if p.stem not in names)
        return {name: self.pid(name) for name in [*names, *extra]}
