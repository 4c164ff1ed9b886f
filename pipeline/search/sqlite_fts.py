"""Embedded search: SQLite FTS5 with the trigram tokenizer, one file, no server.

Trigrams suit Chinese (no word segmentation needed) but cannot MATCH a term shorter than three
characters, and two-character names (张三, 王五) are common; such terms are matched with LIKE over
the same FTS table instead. User text never reaches FTS query syntax unquoted.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import date
from itertools import islice
from pathlib import Path

from pipeline.errors import IndexError_, MissingDependencyError
from pipeline.search.base import (
    HIT_END,
    HIT_START,
    SearchBackend,
    SearchDoc,
    SearchHit,
    mask_id,
    normalize_id,
    parse_query,
)

log = logging.getLogger(__name__)

MIN_SQLITE = (3, 34, 0)
_CHUNK = 500
_WEIGHTS = (5.0, 3.0, 2.0, 1.0)
"""bm25 column weights: title, fields, meta, text; a hit in the title says most."""
_COLUMNS = ("title", "fields", "meta", "text")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS search_records (
    id INTEGER PRIMARY KEY,
    record_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL,
    archive_no TEXT NOT NULL,
    form_id TEXT,
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    person_id TEXT,
    form_date TEXT,
    year INTEGER
);
CREATE INDEX IF NOT EXISTS search_records_form_id ON search_records (form_id);
CREATE INDEX IF NOT EXISTS search_records_year ON search_records (year);
CREATE TABLE IF NOT EXISTS search_ids (
    id_number TEXT NOT NULL,
    record_rowid INTEGER NOT NULL,
    PRIMARY KEY (id_number, record_rowid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS search_ids_record ON search_ids (record_rowid);
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(title, fields, meta, text, tokenize='trigram');
"""


def _check_sqlite() -> None:
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise MissingDependencyError(
            f"SQLite {sqlite3.sqlite_version} lacks the FTS5 trigram tokenizer (needs 3.34 or newer): "
            "use a Python built against a newer SQLite, or set DANGAN_SEARCH_BACKEND=elasticsearch"
        )


class SqliteFtsIndex(SearchBackend):
    def __init__(self, path: Path) -> None:
        _check_sqlite()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with closing(sqlite3.connect(self.path, timeout=30.0)) as conn:
                conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as e:
            if "fts5" in str(e).lower() or "tokenizer" in str(e).lower():
                raise MissingDependencyError(
                    f"this Python's SQLite {sqlite3.sqlite_version} has no FTS5 trigram support ({e}): "
                    "use a Python whose SQLite has FTS5, or DANGAN_SEARCH_BACKEND=elasticsearch"
                ) from e
            raise IndexError_(f"cannot open search index {self.path}: {e}") from e

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # A connection per call: cheap for SQLite, and safe from any thread or process.
        try:
            with closing(sqlite3.connect(self.path, timeout=30.0)) as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                with conn:
                    yield conn
        except sqlite3.DatabaseError as e:
            raise IndexError_(f"search index {self.path}: {e}; rebuild it with `dangan index rebuild`") from e

    # -- writing -------------------------------------------------------------------------------

    def index(self, docs: Iterable[SearchDoc]) -> int:
        written = 0
        it = iter(docs)
        while chunk := list(islice(it, _CHUNK)):
            with self._connect() as conn:
                for doc in chunk:
                    self._upsert(conn, doc)
            written += len(chunk)
        log.debug("indexed %d records into %s", written, self.path)
        return written

    def _upsert(self, conn: sqlite3.Connection, doc: SearchDoc) -> None:
        conn.execute(
            """INSERT INTO search_records
                   (record_id, doc_id, archive_no, form_id, status, title, person_id, form_date, year)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (record_id) DO UPDATE SET
                   doc_id = excluded.doc_id, archive_no = excluded.archive_no,
                   form_id = excluded.form_id, status = excluded.status, title = excluded.title,
                   person_id = excluded.person_id, form_date = excluded.form_date, year = excluded.year""",
            (
                doc.record_id,
                doc.doc_id,
                doc.archive_no,
                doc.form_id,
                doc.status.value,
                doc.title,
                doc.person_id,
                doc.form_date.isoformat() if doc.form_date else None,
                doc.year,
            ),
        )
        (rowid,) = conn.execute("SELECT id FROM search_records WHERE record_id = ?", (doc.record_id,)).fetchone()
        conn.execute("DELETE FROM search_fts WHERE rowid = ?", (rowid,))
        conn.execute(
            "INSERT INTO search_fts (rowid, title, fields, meta, text) VALUES (?, ?, ?, ?, ?)",
            (rowid, doc.title, doc.fields_text, doc.meta_text, doc.text),
        )
        conn.execute("DELETE FROM search_ids WHERE record_rowid = ?", (rowid,))
        conn.executemany(
            "INSERT OR IGNORE INTO search_ids (id_number, record_rowid) VALUES (?, ?)",
            [(id_number, rowid) for id_number in doc.id_numbers],
        )

    def delete(self, record_ids: Iterable[str]) -> int:
        removed = 0
        it = iter(record_ids)
        while chunk := list(islice(it, _CHUNK)):
            with self._connect() as conn:
                for record_id in chunk:
                    row = conn.execute("SELECT id FROM search_records WHERE record_id = ?", (record_id,)).fetchone()
                    if row is None:
                        continue
                    for table, column in (("search_fts", "rowid"), ("search_ids", "record_rowid")):
                        conn.execute(f"DELETE FROM {table} WHERE {column} = ?", row)
                    conn.execute("DELETE FROM search_records WHERE id = ?", row)
                    removed += 1
        return removed

    def clear(self) -> None:
        with self._connect() as conn:
            for table in ("search_fts", "search_ids", "search_records"):
                conn.execute(f"DELETE FROM {table}")

    def count(self) -> int:
        with self._connect() as conn:
            (n,) = conn.execute("SELECT count(*) FROM search_records").fetchone()
        return int(n)

    # -- reading -------------------------------------------------------------------------------

    def search(
        self,
        query: str | None = None,
        *,
        id_number: str | None = None,
        form: str | None = None,
        year: int | None = None,
        limit: int = 20,
    ) -> list[SearchHit]:
        parsed = parse_query(_CONTROL_RE.sub(" ", query or ""))
        ids = list(parsed.id_numbers)
        if id_number and id_number.strip():
            ids.append(normalize_id(id_number))
        long_terms = [t for t in parsed.terms if len(t) >= 3]
        short_terms = [t for t in parsed.terms if len(t) < 3]

        where: list[str] = []
        params: list[object] = []
        score_sql: list[str] = []
        score_params: list[object] = []
        if long_terms:
            where.append("search_fts MATCH ?")
            params.append(" AND ".join(_fts_phrase(t) for t in long_terms))
            score_sql.append(f"-bm25(search_fts, {', '.join(str(w) for w in _WEIGHTS)})")
        for term in short_terms:
            like = "%" + _like_escape(term) + "%"
            where.append("(" + " OR ".join(f"f.{c} LIKE ? ESCAPE '\\'" for c in _COLUMNS) + ")")
            params.extend([like] * len(_COLUMNS))
            # No bm25 without MATCH: weigh which columns hold the term, like the bm25 weights do.
            score_sql.append(
                " + ".join(
                    f"(instr(lower(f.{c}), lower(?)) > 0) * {w}" for c, w in zip(_COLUMNS, _WEIGHTS, strict=True)
                )
            )
            score_params.extend([term] * len(_COLUMNS))
        for value in ids:
            where.append("r.id IN (SELECT record_rowid FROM search_ids WHERE id_number = ?)")
            params.append(value)
        if form and form.strip():
            where.append("(r.form_id = ? OR r.title LIKE ? ESCAPE '\\')")
            params.extend([form.strip(), "%" + _like_escape(form.strip()) + "%"])
        if year is not None:
            where.append("r.year = ?")
            params.append(year)

        sql = (
            "SELECT r.record_id, r.archive_no, r.title, r.form_id, r.person_id, r.form_date, "
            f"{' + '.join(score_sql) or '0.0'} AS score, f.title, f.fields, f.text "
            "FROM search_records r JOIN search_fts f ON f.rowid = r.id "
            + (("WHERE " + " AND ".join(where)) if where else "")
            + " ORDER BY score DESC, r.form_date IS NULL, r.form_date DESC, r.record_id LIMIT ?"
        )
        with self._connect() as conn:
            rows = conn.execute(sql, [*score_params, *params, max(0, limit)]).fetchall()
        log.debug(
            "search terms=%d ids=%s form=%s year=%s -> %d hits",
            len(parsed.terms),
            [mask_id(i) for i in ids],
            form,
            year,
            len(rows),
        )
        marks = [*parsed.terms, *ids]
        return [
            SearchHit(
                record_id=row[0],
                archive_no=row[1],
                title=row[2],
                form_id=row[3],
                person_id=row[4],
                form_date=date.fromisoformat(row[5]) if row[5] else None,
                score=float(row[6]),
                snippet=make_snippet((row[9], row[8], row[7]), marks),
            )
            for row in rows
        ]


def _fts_phrase(term: str) -> str:
    """A term as an FTS5 string: quoted, inner quotes doubled, so no operator or column
    filter in the user's text is ever interpreted."""
    return '"' + term.replace('"', '""') + '"'


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def make_snippet(texts: Sequence[str | None], terms: Sequence[str], width: int = 60) -> str:
    """About `width` characters around the first matched term of the first text that has one,
    every term inside marked; the start of the first text when nothing matches."""
    cleaned = [" ".join((t or "").split()) for t in texts]
    needles = [t.lower() for t in terms if t]
    for text in cleaned:
        lowered = text.lower()
        hits = [lowered.find(n) for n in needles]
        found = [h for h in hits if h >= 0]
        if not found:
            continue
        start = max(0, min(found) - width // 3)
        end = min(len(text), start + width)
        return ("…" if start else "") + _mark(text[start:end], needles) + ("…" if end < len(text) else "")
    first = next((t for t in cleaned if t), "")
    return first[:width] + ("…" if len(first) > width else "")


def _mark(window: str, needles: Sequence[str]) -> str:
    lowered = window.lower()
    spans: list[tuple[int, int]] = []
    for needle in needles:
        pos = lowered.find(needle)
        while pos >= 0:
            spans.append((pos, pos + len(needle)))
            pos = lowered.find(needle, pos + len(needle))
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, at = [], 0
    for s, e in merged:
        out.append(window[at:s] + HIT_START + window[s:e] + HIT_END)
        at = e
    out.append(window[at:])
    return "".join(out)
