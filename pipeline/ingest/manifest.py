"""A vendor's file list (清单) beside the scans: CSV or Excel, UTF-8 (with or without BOM) or GBK.

Each row is checked (the path names a scan inside the batch, the box number and scan date are well
formed) and every bad row is reported with its number and reason. The list itself is never a scan.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from pipeline.errors import BadInputError
from pipeline.ingest.names import name_text
from pipeline.ingest.rules import ManifestRules
from pipeline.ingest.safe_open import open_in_batch
from schemas.models import SkippedEntry

# A list of a few thousand rows is well under a megabyte; far more is not a file list.
MAX_LIST_BYTES = 32 << 20
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")
_DRIVE = re.compile(r"^[A-Za-z]:")

Row = tuple[int, list[object]]


def _decode(data: bytes) -> str | None:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _csv_rows(text: str) -> Iterator[Row]:
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    for number, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        yield number, list(row)


def _xlsx_rows(data: bytes) -> Iterator[Row]:
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        book.close()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def _key(header: str) -> str:
    return re.sub(r"\s+", "", header).lower()


def _columns(header: list[object], rules: ManifestRules) -> dict[str, int]:
    names = {_key(_cell(h)): i for i, h in enumerate(header) if _cell(h)}
    found: dict[str, int] = {}
    for field, aliases in rules.columns.model_dump().items():
        for alias in aliases:
            if _key(alias) in names:
                found[field] = names[_key(alias)]
                break
    return found


def _parse_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _cell(value)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _inside_path(value: str) -> str | None:
    """The path as the batch names it, or None when it points outside the batch folder."""
    path = value.replace("\\", "/")
    if path.startswith("/") or _DRIVE.match(path) or ".." in path.split("/"):
        return None
    return "/".join(p for p in path.split("/") if p not in ("", "."))


def _is_scan(path: str, scans: set[bytes]) -> bool:
    # A GBK list names the files of a share whose names are GBK bytes: either encoding may match.
    for encoding in ("utf-8", "gb18030"):
        try:
            if path.encode(encoding) in scans:
                return True
        except UnicodeEncodeError:
            continue
    return False


def _row_problems(cells: list[object], cols: dict[str, int], scans: set[bytes], rules: ManifestRules) -> list[str]:
    def get(field: str) -> object:
        i = cols.get(field)
        return cells[i] if i is not None and i < len(cells) else None

    problems: list[str] = []
    raw_path = _cell(get("path"))
    if not raw_path:
        problems.append("no file name")
    else:
        path = _inside_path(raw_path)
        if path is None:
            problems.append(f"path {raw_path!r} leaves the batch folder")
        elif not _is_scan(path, scans):
            problems.append(f"{raw_path!r} is not a scan in the batch")
    box = _cell(get("box_no"))
    if "box_no" in cols and box and not re.match(rules.box_no_pattern, box):
        problems.append(f"box number {box!r} is not valid")
    raw_date = get("scan_date")
    if "scan_date" in cols and _cell(raw_date):
        when = _parse_date(raw_date)
        if when is None:
            problems.append(f"scan date {_cell(raw_date)!r} is not a date")
        elif not rules.earliest_scan_date <= when <= date.today():
            problems.append(f"scan date {when.isoformat()} is out of range")
    pages = _cell(get("pages"))
    if "pages" in cols and pages and not (pages.isdigit() and int(pages) > 0):
        problems.append(f"page count {pages!r} is not a positive number")
    return problems


def _rows(rel: bytes, data: bytes) -> Iterator[Row] | str:
    """The rows of the list, or why it cannot be read."""
    if rel.lower().endswith(b".xls"):
        return "file list in the old Excel .xls format cannot be read; save it as .xlsx or CSV"
    if rel.lower().endswith(b".xlsx"):
        try:
            return iter(list(_xlsx_rows(data)))
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as e:
            return f"file list cannot be read as an Excel workbook ({type(e).__name__}: {e})"
    text = _decode(data)
    if text is None:
        return "file list is neither UTF-8 nor GBK text; not read"
    return _csv_rows(text)


def read_file_list(root: Path, rel: bytes, scans: set[bytes], rules: ManifestRules) -> list[SkippedEntry]:
    """Check a vendor's list; return an entry for the list itself and one for each bad row."""
    shown = name_text(rel)
    try:
        with open_in_batch(root, rel) as fh:
            data = fh.read(MAX_LIST_BYTES + 1)
    except BadInputError as e:
        return [SkippedEntry(rel_path=shown, reason=e.reason)]
    except OSError as e:
        return [SkippedEntry(rel_path=shown, reason=f"file list cannot be read ({e.strerror})")]
    if len(data) > MAX_LIST_BYTES:
        return [SkippedEntry(rel_path=shown, reason=f"larger than {MAX_LIST_BYTES >> 20} MiB: not a file list")]
    rows = _rows(rel, data)
    if isinstance(rows, str):
        return [SkippedEntry(rel_path=shown, reason=rows)]
    try:
        header_no, header = next((n, r) for n, r in rows if any(_cell(c) for c in r))
    except StopIteration:
        return [SkippedEntry(rel_path=shown, reason="file list is empty")]
    cols = _columns(header, rules)
    if "path" not in cols:
        return [SkippedEntry(rel_path=shown, reason=f"no file-name column in row {header_no}; not a file list")]
    bad: list[SkippedEntry] = []
    first_row: dict[str, int] = {}
    count = 0
    for number, cells in rows:
        if not any(_cell(c) for c in cells):
            continue
        count += 1
        if count > rules.max_rows:
            bad.append(
                SkippedEntry(rel_path=shown, row=number, reason=f"more than {rules.max_rows} rows; rest not read")
            )
            break
        problems = _row_problems(cells, cols, scans, rules)
        path = _inside_path(_cell(cells[cols["path"]]) if cols["path"] < len(cells) else "")
        if path and path in first_row:
            problems.append(f"listed twice (first in row {first_row[path]})")
        elif path:
            first_row[path] = number
        if problems:
            bad.append(SkippedEntry(rel_path=shown, row=number, reason="; ".join(problems)))
    summary = SkippedEntry(
        rel_path=shown, reason=f"vendor's file list, not a scan: {count} rows checked, {len(bad)} bad (listed)"
    )
    return [summary, *bad]
