"""The production docker-compose.yml and Dockerfile hang together (no docker engine runs here)."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.stack.config import SHARED_ENV, StackConfig, StackSecrets, read_env_file, stack_env

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker", "airflow-triggerer")
_VAR = re.compile(r"\$\{([^}]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _depends(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def test_every_service_is_there(compose: dict[str, Any]) -> None:
    expected = {"postgres", "redis", "elasticsearch", "airflow-init", "review", "review-proxy", *AIRFLOW}
    assert expected <= set(compose["services"])


def test_depends_on_names_existing_services_with_sound_conditions(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dep, condition in _depends(service).items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            assert dep != name
            if condition == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep} to be healthy; it has no healthcheck"
            if dep == "airflow-init":
                assert condition == "service_completed_successfully"


def test_depends_on_has_no_cycle(compose: dict[str, Any]) -> None:
    services = compose["services"]
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"cycle: {' -> '.join((*path, name))}"
        if name in done:
            return
        for dep in _depends(services[name]):
            visit(dep, (*path, name))
        done.add(name)

    for name in services:
        visit(name, ())


def test_airflow_runs_celery_from_our_image(compose: dict[str, Any]) -> None:
    services = compose["services"]
    commands = {name: services[name]["command"] for name in (*AIRFLOW, "airflow-init")}
    init = commands["airflow-init"]
    assert init[:2] == ["bash", "-c"]
    # Schema first, then the pool the mapped OCR tasks wait on (without it they never run), then the catalogue.
    steps = [part.strip() for part in init[2].split("&&")]
    assert steps[0] == "airflow db migrate"
    assert steps[1].startswith("airflow pools set ocr ")
    assert "open_store" in steps[2]
    assert commands["airflow-apiserver"] == ["airflow", "api-server"]
    assert commands["airflow-dag-processor"] == ["airflow", "dag-processor"]
    assert commands["airflow-worker"] == ["airflow", "celery", "worker"]
    for name in (*AIRFLOW, "airflow-init", "review"):
        service = services[name]
        assert service["build"]["dockerfile"] == "Dockerfile"
        assert (ROOT / service["build"]["context"] / "Dockerfile").is_file()
    for name in (*AIRFLOW, "airflow-init"):
        env = {**read_env_file(ROOT / services[name]["env_file"][0]), **services[name]["environment"]}
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert (
            env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
            and "@redis:6379" in env["AIRFLOW__CELERY__BROKER_URL"]
        )
        assert "@postgres:5432/airflow" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/dangan/dags"
    for name in AIRFLOW:
        assert "healthcheck" in services[name], name
    # The database Airflow's URL names is created by the postgres init config.
    init = compose["configs"]["postgres-init"]["content"]
    assert "CREATE DATABASE airflow" in init
    targets = [c["source"] for c in services["postgres"]["configs"]]
    assert targets == ["postgres-init"]


def test_backing_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    es = services["elasticsearch"]
    assert re.match(r"docker\.elastic\.co/elasticsearch/elasticsearch:9\.\d+\.\d+$", es["image"])
    env = es["environment"]
    assert env["discovery.type"] == "single-node"
    for key in ("xpack.security.enabled", "xpack.security.http.ssl.enabled", "xpack.security.transport.ssl.enabled"):
        assert env[key] in ("true", "false"), f"{key} must be explicit"
    assert env["xpack.security.enabled"] == "true"
    heap = dict(re.findall(r"-Xm([sx])(\d+[mg])", env["ES_JAVA_OPTS"]))
    assert heap["s"] == heap["x"], "min heap = max heap"
    assert int(heap["x"][:-1]) * 2 <= int(es["mem_limit"][:-1]), "heap at most half the container memory"
    assert "_cluster/health" in " ".join(_strings(es["healthcheck"]["test"]))
    for name in ("postgres", "redis", "elasticsearch"):
        assert "healthcheck" in services[name]


def test_dangan_environment_and_shared_home(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("review", "airflow-worker", "airflow-scheduler"):
        env = services[name]["environment"]
        assert env["DANGAN_SEARCH_BACKEND"] == "elasticsearch"
        assert env["DANGAN_ES_URL"].endswith("@elasticsearch:9200")
        assert (
            env["DANGAN_DB_URL"].startswith("postgresql+psycopg://") and "@postgres:5432/dangan" in env["DANGAN_DB_URL"]
        )
        assert f"dangan-home:{env['DANGAN_HOME']}" in services[name]["volumes"]
    command = services["review"]["command"]
    assert command[:3] == ["uvicorn", "review.app:create_app", "--factory"] and "--no-access-log" in command
    module, _, factory = command[1].partition(":")
    assert callable(getattr(importlib.import_module(module), factory))


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/", "${")):  # a path, or a variable naming a host file
                assert source in declared, f"{name} uses undeclared volume {source}"


def test_secrets_have_no_defaults(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    variables = _VAR.findall(text)
    assert variables
    for var in variables:
        name = re.split(r"[:?-]", var, maxsplit=1)[0]
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", name), var
        if re.search(r"PASSWORD|SECRET|FERNET", name):
            assert var.startswith(name + ":?"), f"${{{var}}} must be required, not defaulted"
    for value in _strings(compose["services"]):
        for match in re.finditer(r"://[^:/@\s]*:([^@\s]+)@", value):
            assert match.group(1).startswith("${"), f"literal password in {value}"


def test_dockerfile() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert text.splitlines()[1] == "FROM python:3.11-slim-bookworm"
    for package in ("tesseract-ocr", "tesseract-ocr-chi-sim", "ghostscript", "unpaper", "fonts-noto-cjk", "curl"):
        assert re.search(rf"\s{re.escape(package)}\s", text), package
    assert 'pip install -c constraints.txt ".[airflow]"' in text
    for folder in ("pipeline", "schemas", "classifiers", "review", "dags"):
        assert f"COPY {folder} ./{folder}" in text
        assert (ROOT / folder).is_dir()


# ---- one source of Airflow settings: deploy/airflow.env ----------------------------------------
# Compose reads it as env_file, the local stack (scripts/airflow-local.sh) renders it: neither may set
# one of its keys itself, and what compose sets per host the local stack sets too.

COMPOSE_ONLY = {"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"}  # the local stack always has "admin"


def _local_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    cfg = StackConfig(
        state_dir=tmp_path / "state", dangan_home=tmp_path / "home", drop_dir=tmp_path / "drop", overrides=overrides
    ).with_ports()
    keys = StackSecrets(fernet_key="f", jwt_secret="j", api_secret_key="a", admin_password="p")
    return stack_env(cfg, keys)


def test_compose_and_local_stack_share_the_airflow_settings(compose: dict[str, Any], tmp_path: Path) -> None:
    shared = read_env_file()
    assert shared["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    local = _local_env(tmp_path)
    for key, value in shared.items():
        assert local[key] == value, f"the local stack changes {key}"
    for name in (*AIRFLOW, "airflow-init"):
        service = compose["services"][name]
        assert service["env_file"] == [str(SHARED_ENV.relative_to(ROOT))], name
        own = set(service["environment"])
        assert not own & set(shared), f"{name} overrides {sorted(own & set(shared))} of {SHARED_ENV.name}"
        airflow_keys = {k for k in own if k.startswith("AIRFLOW__")}
        assert airflow_keys - COMPOSE_ONLY <= set(local), f"the local stack lacks {sorted(airflow_keys - set(local))}"
    # Both use psycopg 3 for Airflow's metadata, with the async URL Airflow then needs.
    env = compose["services"]["airflow-scheduler"]["environment"]
    for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"):
        assert env[key].split("://")[0] == local[key].split("://")[0], key
    assert local["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"].startswith("postgresql+psycopg_async://")


def test_recovery_from_a_dead_worker_is_bounded() -> None:
    """A worker killed mid-task costs at most heartbeat timeout + detection interval before the retry is
    scheduled, and holds no unstarted task hostage (see deploy/airflow.env for why each value)."""
    shared = read_env_file()
    timeout = int(shared["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT"])
    detection = float(shared["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL"])
    assert 30 <= timeout <= 120, "below 30 s a loaded machine's pauses fail healthy tasks; above 120 s waits too long"
    assert detection <= timeout / 4
    assert shared["AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER"] == "1"
    assert shared["AIRFLOW__CELERY__TASK_ACKS_LATE"] == "True"
    visibility = int(shared["AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT"])
    assert visibility >= 10 * timeout, "a long task must not be redelivered while it runs"


def test_env_file_is_plain_key_value(tmp_path: Path) -> None:
    from pipeline.errors import ConfigError

    good = tmp_path / "good.env"
    good.write_text("# comment\n\nA__B=1\nC=x y\n", encoding="utf-8")
    assert read_env_file(good) == {"A__B": "1", "C": "x y"}
    for line in ("A=1 # inline comment", 'A="quoted"', "export A=1", "a=1"):
        bad = tmp_path / "bad.env"
        bad.write_text(line + "\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=r"bad\.env:1"):
            read_env_file(bad)


def test_local_stacks_do_not_share_queues_or_databases(tmp_path: Path) -> None:
    one = StackConfig(name="one", state_dir=tmp_path / "1", dangan_home=tmp_path, drop_dir=tmp_path)
    two = StackConfig(name="two", state_dir=tmp_path / "2", dangan_home=tmp_path, drop_dir=tmp_path)
    assert len({one.queue, two.queue, one.airflow_db, two.airflow_db, one.catalogue_db, two.catalogue_db}) == 6
    env = _local_env(tmp_path, AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT="20")
    assert env["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT"] == "20"
    assert env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"] == "dangan_tasks"
    assert env["DANGAN_DB_URL"].endswith("/dangan_catalogue")


# ---- the review app behind TLS (deploy/nginx/nginx.conf) --------------------------------------


def test_review_is_served_only_through_the_tls_proxy(compose: dict[str, Any]) -> None:
    services = compose["services"]
    review, proxy = services["review"], services["review-proxy"]
    assert "ports" not in review and review["expose"] == ["8000"], "the app must not be reachable around TLS"
    assert "--proxy-headers" in review["command"]
    assert proxy["image"].startswith("nginx:")
    assert sorted(proxy["ports"]) == ["443:443", "80:80"]
    assert _depends(proxy) == {"review": "service_healthy"}
    assert [c["target"] for c in proxy["configs"]] == ["/etc/nginx/nginx.conf"]
    assert compose["configs"]["nginx-conf"]["file"] == "./deploy/nginx/nginx.conf"
    mounts = {v.rsplit(":", 2)[1]: v for v in proxy["volumes"]}
    for target, var in (("/etc/nginx/tls/cert.pem", "DANGAN_TLS_CERT"), ("/etc/nginx/tls/key.pem", "DANGAN_TLS_KEY")):
        assert mounts[target].startswith("${" + var + ":?") and mounts[target].endswith(":ro"), target


def test_nginx_config_terminates_tls_and_forwards_the_client(tmp_path: Path) -> None:
    text = (ROOT / "deploy" / "nginx" / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(r"ssl_protocols TLSv1\.2 TLSv1\.3;", text)
    assert "listen 443 ssl http2;" in text and "return 301 https://$host$request_uri;" in text
    assert "Strict-Transport-Security" in text and "access_log off;" in text
    assert "proxy_pass http://review;" in text and "server review:8000;" in text
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text
    assert "proxy_set_header X-Forwarded-Proto https;" in text
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    assert nginx, "nginx is needed to check the proxy's configuration (Makefile: APT_PACKAGES)"
    # nginx's own parser on the real file: only the compose host name and the mounted paths are swapped.
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dangan.test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256())
    )  # fmt: skip
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    local = text.replace("server review:8000;", "server 127.0.0.1:8000;").replace("/etc/nginx/tls/", f"{tmp_path}/")
    local = local.replace("pid /tmp/nginx.pid;", f"pid {tmp_path}/nginx.pid;")
    conf = tmp_path / "nginx.conf"
    conf.write_text(local, encoding="utf-8")
    done = subprocess.run(
        [nginx, "-t", "-q", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
