"""What a local Airflow stack is made of, and the environment each of its processes gets.

The settings every stack shares live in `deploy/airflow.env` (docker-compose.yml reads the same file);
this module adds only what is local: loopback hosts, free ports, database names, generated secrets.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
SHARED_ENV = REPO / "deploy" / "airflow.env"
DAGS = REPO / "dags"
_LINE = re.compile(r"^([A-Z_][A-Z0-9_]*)=(.*)$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


def read_env_file(path: Path = SHARED_ENV) -> dict[str, str]:
    """KEY=VALUE lines, `#` comments on their own lines: the subset docker compose and we read alike."""
    values: dict[str, str] = {}
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None or "#" in match.group(2) or match.group(2)[:1] in "'\"":
            raise ConfigError(f"{path}:{n}: not a plain KEY=VALUE line: {raw!r}")
        values[match.group(1)] = match.group(2)
    return values


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StackConfig(BaseModel):
    """One local stack; `name` keeps its databases, queue and processes apart from any other stack."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(default="dangan", description="prefix of database names and the Celery queue")
    state_dir: Path = Field(description="AIRFLOW_HOME, logs, pid files and secrets of this stack")
    dangan_home: Path
    drop_dir: Path
    workers: int = Field(default=1, ge=0)
    worker_concurrency: int = Field(default=max(1, os.cpu_count() or 1), ge=1)
    ocr_slots: int = Field(default=0, ge=0, description="size of the `ocr` pool; 0 = all worker slots")
    ocr_engine: Literal["rapidocr", "tesseract", "null"] = "rapidocr"
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    redis_url: str = "redis://127.0.0.1:6379/0"
    api_port: int = 0
    health_port: int = 0
    overrides: dict[str, str] = Field(
        default_factory=dict, description="extra environment, e.g. shorter timeouts for tests"
    )

    def model_post_init(self, _context: object) -> None:
        if not _NAME.match(self.name):
            raise ConfigError(f"stack name {self.name!r}: lower-case letters, digits and _ only")

    @property
    def airflow_db(self) -> str:
        return f"{self.name}_airflow"

    @property
    def catalogue_db(self) -> str:
        return f"{self.name}_catalogue"

    @property
    def queue(self) -> str:
        return f"{self.name}_tasks"

    @property
    def airflow_home(self) -> Path:
        return self.state_dir / "airflow"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def slots(self) -> int:
        return self.ocr_slots or self.workers * self.worker_concurrency or 1

    def pg_url(self, db: str, driver: str = "psycopg") -> str:
        return f"postgresql+{driver}://{self.pg_user}@{self.pg_host}:{self.pg_port}/{db}"

    def with_ports(self) -> StackConfig:
        """Ports left at 0 become free ones, chosen once and saved with the stack."""
        return self.model_copy(
            update={"api_port": self.api_port or free_port(), "health_port": self.health_port or free_port()}
        )


class StackSecrets(BaseModel):
    """Generated once per stack and kept in its state folder (mode 600), never in the repository."""

    fernet_key: str
    jwt_secret: str
    api_secret_key: str
    admin_password: str

    @classmethod
    def load_or_create(cls, state_dir: Path) -> StackSecrets:
        path = state_dir / "secrets.json"
        if path.exists():
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        from cryptography.fernet import Fernet

        made = cls(
            fernet_key=Fernet.generate_key().decode(),
            jwt_secret=secrets.token_urlsafe(64),
            api_secret_key=secrets.token_urlsafe(32),
            admin_password=secrets.token_urlsafe(12),
        )
        state_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(made.model_dump_json(), encoding="utf-8")
        return made


def dangan_env(cfg: StackConfig) -> dict[str, str]:
    """What the pipeline code running inside the tasks reads (pipeline.settings)."""
    return {
        "DANGAN_HOME": str(cfg.dangan_home),
        "DANGAN_DB_URL": cfg.pg_url(cfg.catalogue_db),
        "DANGAN_DROP_DIR": str(cfg.drop_dir),
        "DANGAN_OCR__ENGINE": cfg.ocr_engine,
        "DANGAN_SEARCH_BACKEND": "sqlite",
    }


def stack_env(cfg: StackConfig, keys: StackSecrets) -> dict[str, str]:
    """The environment of every process of the stack: the shared file, then the local values."""
    passwords = cfg.state_dir / "passwords.json"
    local = {
        "AIRFLOW_HOME": str(cfg.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__FERNET_KEY": keys.fernet_key,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{cfg.api_url}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__BASE_URL": cfg.api_url,
        "AIRFLOW__API__PORT": str(cfg.api_port),
        "AIRFLOW__API__SECRET_KEY": keys.api_secret_key,
        "AIRFLOW__API_AUTH__JWT_SECRET": keys.jwt_secret,
        # psycopg 3 for both: Airflow's async engine otherwise asks for asyncpg.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": cfg.pg_url(cfg.airflow_db),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": cfg.pg_url(cfg.airflow_db, "psycopg_async"),
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + cfg.pg_url(cfg.airflow_db),
        "AIRFLOW__CELERY__BROKER_URL": cfg.redis_url,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(cfg.worker_concurrency),
        # Stacks sharing one Redis never take each other's tasks.
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": cfg.queue,
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(cfg.health_port),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(cfg.airflow_home / "logs"),
        # Tasks import this checkout's pipeline, whatever the venv's editable install points at.
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
    }
    return {**read_env_file(), **local, **dangan_env(cfg), **cfg.overrides}


def write_passwords(cfg: StackConfig, keys: StackSecrets) -> None:
    path = cfg.state_dir / "passwords.json"
    path.touch(mode=0o600)
    path.write_text(json.dumps({"admin": keys.admin_password}), encoding="utf-8")
