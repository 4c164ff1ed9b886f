"""`dangan users …` and `dangan serve` as an operator runs them: real processes, a real HTTP server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from pipeline.store import open_store
from pipeline.store.accounts import AccountStore


def _dangan(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_users_add_list_disable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    env = {**os.environ, "DANGAN_DB_URL": url, "DANGAN_HOME": str(tmp_path)}
    r = _dangan(env, "users", "add", "wang", "--role", "reviewer", "--name", "王敏", stdin="a long passphrase\n")
    assert r.returncode == 0, r.stderr
    short = _dangan(env, "users", "add", "li", "--role", "counter", stdin="short\n")
    assert short.returncode != 0 and "at least 10 characters" in short.stderr + short.stdout
    again = _dangan(env, "users", "add", "wang", "--role", "admin", stdin="a long passphrase\n")
    assert again.returncode == 5 and "exists already" in again.stderr
    insured = _dangan(env, "users", "add", "zs", "--role", "insured", stdin="a long passphrase\n")
    assert insured.returncode != 0 and "--id-number" in insured.stderr + insured.stdout
    assert _dangan(env, "users", "disable", "wang").returncode == 0
    listing = _dangan(env, "users", "list")
    assert "wang" in listing.stdout and "reviewer" in listing.stdout and "no" in listing.stdout
    with open_store(url) as store:
        user = AccountStore(store.engine).get_user("wang")
        assert user is not None and not user.active and user.display_name == "王敏"
        hashed = AccountStore(store.engine).password_hash("wang")
        assert hashed is not None and hashed.startswith("$argon2id$")
        assert [e.action for e in store.audit_events()] == ["user_add", "user_disable"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dangan_serve_answers_over_http(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "DANGAN_DB_URL": f"sqlite:///{tmp_path / 'c.sqlite'}", "DANGAN_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        body = ""
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    body = r.read().decode()
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.25)
        assert 'name="password"' in body
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/search", timeout=5)
        except urllib.error.HTTPError as e:
            raise AssertionError(f"unexpected {e.code}") from e
    finally:
        proc.terminate()
        proc.wait(timeout=30)
