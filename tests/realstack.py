"""Helpers of the real-stack Airflow tests: what a catalogue holds for a batch, and a loopback TCP proxy
in front of PostgreSQL that the tests can cut (the catalogue database unreachable for a moment)."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import sqlite3
import threading
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from pipeline.ingest.discover import batch_id_for
from pipeline.store import open_store

# Paths differ between two homes, and a PDF/A's bytes between two writes (creation time, document ID):
# its hash is checked against the file instead. Everything else about a record must not differ.
_PER_HOME = {"pdfa_path", "image_path", "sha256"}


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in _PER_HOME}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def catalogue_snapshot(db_url: str, home: Path, batch_dir: Path) -> dict[str, Any]:
    """Files, documents (fields and statuses), records (archive numbers), PDF/A files and index entries of
    one batch, with nothing that depends on which home or run wrote them."""
    batch_id = batch_id_for(batch_dir)
    store = open_store(db_url)
    try:
        files = {f.rel_path: _strip(f.model_dump(mode="json")) for f in store.source_files(batch_id)}
        documents = {d.doc_id: _strip(d.model_dump(mode="json")) for d in store.documents(batch_id)}
        records = store.records(batch_id)
        pages = {f: len(store.pages(fid)) for f, fid in ((f.rel_path, f.file_id) for f in store.source_files(batch_id))}
        qc = sorted(t.doc_id for t in store.qc_tasks() if t.doc_id in documents)
    finally:
        store.close()
    pdfa: dict[str, Any] = {}
    for record in records:
        assert record.pdfa_path, record.archive_no
        path = Path(record.pdfa_path)
        assert path.is_file() and path.resolve().is_relative_to(home.resolve()), path
        assert record.sha256 == hashlib.sha256(path.read_bytes()).hexdigest(), path
        reader = PdfReader(path)
        pdfa[record.archive_no] = {
            "file_name": path.name,
            "pages": len(reader.pages),
            "text": [page.extract_text() for page in reader.pages],
        }
    with contextlib.closing(sqlite3.connect(home / "index.sqlite")) as index:
        rows = index.execute(
            "SELECT r.record_id, r.doc_id, r.archive_no, r.form_id, r.status, r.title, r.person_id, r.form_date,"
            " r.year, f.title, f.fields, f.meta, f.text FROM search_records r JOIN search_fts f ON f.rowid = r.id"
        ).fetchall()
    record_ids = {r.record_id for r in records}
    return {
        "files": files,
        "pages": pages,
        "documents": documents,
        "records": {r.archive_no: _strip(r.model_dump(mode="json")) for r in records},
        "pdfa": pdfa,
        "index": sorted(row for row in rows if row[0] in record_ids),
        "qc_tasks": qc,
    }


class TcpProxy:
    """127.0.0.1:<port> -> target, with `cut()` (every connection closed, new ones refused) and `mend()`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._down = threading.Event()
        self._closed = threading.Event()
        self.refused = threading.Event()
        threading.Thread(target=self._accept, daemon=True, name="tcp-proxy").start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._down.is_set():
                client.close()
                self.refused.set()
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
                with self._lock:
                    self._open.discard(s)

    def cut(self) -> None:
        self.refused.clear()
        self._down.set()
        with self._lock:
            sockets = list(self._open)
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def mend(self) -> None:
        self._down.clear()

    def close(self) -> None:
        self._closed.set()
        self.cut()
        self._listener.close()
