"""Airflow's REST API (v2), as far as running Dangan's DAGs needs it: standard library only."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from pipeline.errors import ConfigError

FINISHED = ("success", "failed")


class TaskState(BaseModel):
    task_id: str
    map_index: int
    state: str | None
    try_number: int
    hostname: str | None = None


class RunState(BaseModel):
    dag_id: str
    run_id: str = Field(validation_alias="dag_run_id")
    state: str
    logical_date: datetime | None = None


class ApiError(ConfigError):
    """The API server answered with an error or not at all."""

    retryable = True

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path}: HTTP {status}: {body[:500]}")
        self.status = status


class AirflowApi:
    def __init__(self, base_url: str, username: str, password: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = {"username": username, "password": password}
        self._timeout = timeout
        self._token: str | None = None

    def _call(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> Any:
        """One request; a read that timed out or met a server error is asked again (a loaded API server
        answers late, a restarting one not at all) before the error is raised."""
        attempts = 4 if method == "GET" else 1
        for attempt in range(1, attempts + 1):
            try:
                return self._request(method, path, body, auth)
            except ApiError as e:
                if attempt == attempts or 0 < e.status < 500:
                    raise
                time.sleep(2.0 * attempt)
        raise AssertionError("unreachable")

    def _request(self, method: str, path: str, body: Any, auth: bool) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as e:
            raise ApiError(method, path, e.code, e.read().decode(errors="replace")) from e
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            raise ApiError(method, path, 0, str(e)) from e
        return json.loads(text) if text else None

    def token(self) -> str:
        if self._token is None:
            answer = self._call("POST", "/auth/token", self._credentials, auth=False)
            self._token = str(answer["access_token"])
        return self._token

    def health(self) -> dict[str, Any]:
        return dict(self._call("GET", "/api/v2/monitor/health", auth=False))

    def dag_ids(self) -> list[str]:
        return [d["dag_id"] for d in self._call("GET", "/api/v2/dags?limit=100")["dags"]]

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self._call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": paused})

    def set_pool(self, name: str, slots: int, description: str) -> None:
        try:
            self._call("PATCH", f"/api/v2/pools/{name}", {"slots": slots, "description": description})
        except ApiError as e:
            if e.status != 404:
                raise
            self._call("POST", "/api/v2/pools", {"name": name, "slots": slots, "description": description})

    def pool_slots(self, name: str) -> int:
        return int(self._call("GET", f"/api/v2/pools/{name}")["slots"])

    def trigger(
        self, dag_id: str, conf: dict[str, Any] | None = None, logical_date: datetime | None = None
    ) -> RunState:
        body = {"conf": conf or {}, "logical_date": logical_date.isoformat() if logical_date else None}
        return RunState.model_validate(self._call("POST", f"/api/v2/dags/{dag_id}/dagRuns", body))

    def run(self, dag_id: str, run_id: str) -> RunState:
        quoted = urllib.parse.quote(run_id, safe="")
        return RunState.model_validate(self._call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quoted}"))

    def runs(self, dag_id: str) -> list[RunState]:
        answer = self._call("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100&order_by=logical_date")
        return [RunState.model_validate(r) for r in answer["dag_runs"]]

    def tasks(self, dag_id: str, run_id: str) -> list[TaskState]:
        quoted = urllib.parse.quote(run_id, safe="")
        answer = self._call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quoted}/taskInstances?limit=1000")
        return [TaskState.model_validate(t) for t in answer["task_instances"]]

    def clear(self, dag_id: str, run_id: str) -> None:
        """Run every task of a finished run again (what the UI's "Clear" does)."""
        body = {"dry_run": False, "dag_run_id": run_id, "only_failed": False, "reset_dag_runs": True}
        self._call("POST", f"/api/v2/dags/{dag_id}/clearTaskInstances", body)

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        quoted = urllib.parse.quote(run_id, safe="")
        path = f"/api/v2/dags/{dag_id}/dagRuns/{quoted}/taskInstances/{task_id}/xcomEntries/{key}?deserialize=true"
        return self._call("GET", path)["value"]

    def wait(self, dag_id: str, run_id: str, timeout: float, poll: float = 2.0) -> RunState:
        """The run once it has finished; ApiError when it has not within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(dag_id, run_id)
            if run.state in FINISHED:
                return run
            if time.monotonic() > deadline:
                states = sorted((t.task_id, t.map_index, t.state) for t in self.tasks(dag_id, run_id))
                raise ApiError("WAIT", f"{dag_id}/{run_id}", 0, f"still {run.state} after {timeout:.0f} s: {states}")
            time.sleep(poll)
