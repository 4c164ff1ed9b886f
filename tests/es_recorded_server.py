"""A stand-in Elasticsearch for tests: replays recorded responses and records every request.

No Elasticsearch can run on the build machines, so the real `elasticsearch` client is pointed at
this server instead. Responses come from `tests/resources/es_recordings.json`, grouped by
scenario and keyed by method and path (the query string is recorded but not matched). When a key
has several responses they are answered in order, the last one repeating, so a HEAD can answer
404 before a create and 200 after it.

Index-creation bodies are also checked with the rules a real cluster applies
(`tests/es_mapping_rules.py`); a body a cluster would refuse gets the cluster's 400 answer.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from es_mapping_rules import mapping_errors

RECORDINGS = Path(__file__).parent / "resources" / "es_recordings.json"
ES_HEADERS = {
    "X-Elastic-Product": "Elasticsearch",
    "content-type": "application/vnd.elasticsearch+json; compatible-with=9",
}


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def ndjson(self) -> list[Any]:
        return [json.loads(line) for line in self.body.decode("utf-8").splitlines() if line.strip()]


@dataclass
class _Replay:
    responses: dict[tuple[str, str], list[dict[str, Any]]]
    served: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))

    def next(self, method: str, path: str) -> dict[str, Any] | None:
        answers = self.responses.get((method, path))
        if not answers:
            return None
        i = self.served[(method, path)]
        self.served[(method, path)] = i + 1
        return answers[min(i, len(answers) - 1)]


def load_scenario(name: str, recordings: Path = RECORDINGS) -> dict[tuple[str, str], list[dict[str, Any]]]:
    data = json.loads(recordings.read_text(encoding="utf-8"))
    responses: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for interaction in data["scenarios"][name]:
        req = interaction["request"]
        responses[(req["method"], req["path"])].append(interaction["response"])
    return dict(responses)


class EsRecordedServer:
    """Threaded HTTP server on 127.0.0.1 and a random port; use as a context manager."""

    def __init__(self, scenario: str, recordings: Path = RECORDINGS) -> None:
        self.scenario = scenario
        self._replay = _Replay(load_scenario(scenario, recordings))
        self.requests: list[RecordedRequest] = []
        self.unmatched: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        # A short poll interval keeps shutdown (and so each test) fast.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="es-recorded", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> EsRecordedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def find(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def _answer(self, req: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(req)
            if req.method == "PUT" and req.path.count("/") == 1 and not req.path.startswith("/_") and req.body:
                errors = mapping_errors(req.json())
                if errors:
                    return 400, dict(ES_HEADERS), json.dumps(_mapper_parsing_error(errors[0])).encode()
            response = self._replay.next(req.method, req.path)
            if response is None:
                self.unmatched.append(req)
                body = {"error": f"no recording for {req.method} {req.path} in scenario {self.scenario}"}
                return 501, {"content-type": "application/json"}, json.dumps(body).encode()
        payload = b"" if response.get("body") is None else json.dumps(response["body"]).encode("utf-8")
        return int(response["status"]), dict(response["headers"]), payload

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                req = RecordedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                status, headers, payload = server._answer(req)
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _mapper_parsing_error(reason: str) -> dict[str, Any]:
    """The shape of a real cluster's answer to a mapping it refuses."""
    reason = f"Failed to parse mapping: {reason}"
    cause = {"type": "mapper_parsing_exception", "reason": reason}
    return {"error": {"root_cause": [cause], **cause}, "status": 400}
