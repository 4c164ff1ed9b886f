"""The dashboard's figures after real review work, and the corrections exported as labelled data
(download and `dangan corrections export`)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from pipeline.store import open_store
from review.app import create_app
from tests.review_client import log_in
from tests.review_world import GROUP_IDS, add_group_tasks, build_world


def test_dashboard_and_labelled_corrections(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    store = open_store(url)
    try:
        world = build_world(store, tmp_path, url)
        add_group_tasks(store, tmp_path, 4, odd=1)
        with TestClient(create_app(world.settings, open_store(url)), base_url="https://testserver") as client:
            csrf = log_in(client, "reviewer")
            board = client.get("/dashboard").text
            assert re.search(r'id="queue-open">4<', board) and "No review work yet" in board
            client.post("/group/claim", data={"csrf": csrf, "key": "id_number"})
            page = client.get("/group/id_number").text
            form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
            for i in range(4):
                form[f"m{i}"], form[f"v{i}"] = "confirmed", GROUP_IDS[i]
            form["m1"] = "corrected"
            assert client.post("/group/id_number", data={**form, "action": "save"}).status_code == 200
            board = client.get("/dashboard", params={"batch": "B2024-001"}).text
            assert re.search(r'id="queue-open">0<', board) and re.search(r'id="done-today">4<', board)
            assert re.search(r"<td>reviewer</td><td>4</td><td>4</td><td>[0-9.–]+</td><td>3</td><td>1</td>", board)
            assert re.search(r"<code>id_number</code></td><td>3</td><td>1</td><td>25.0 %", board)
            # Reviewers see the dashboard; only archivists download the labelled data.
            assert client.get("/corrections/export").status_code == 403
            client.cookies.clear()
            log_in(client, "archivist")
            r = client.get("/corrections/export")
            assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
            rows = [json.loads(line) for line in r.text.splitlines()]
            assert len(rows) == 4 and sum(not x["right"] for x in rows) == 1
            wrong = next(x for x in rows if not x["right"])
            assert wrong["key"] == "id_number" and wrong["truth"] == GROUP_IDS[1] and wrong["kind"] == "corrected"
            assert wrong["machine_value"] != GROUP_IDS[1] and "features" in wrong
        env = {**os.environ, "DANGAN_DB_URL": url, "DANGAN_HOME": str(tmp_path)}
        out = tmp_path / "labels.jsonl"
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "corrections", "export", "--out", str(out)],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()] == rows
        assert [e.action for e in store.audit_events()].count("export_labels") == 2
    finally:
        store.close()
