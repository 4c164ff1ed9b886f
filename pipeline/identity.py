"""Record identity: 档案编号 年度-业务类型-卷号-件号 and the file name 年度-业务类型-参保人ID-材料名称.pdf.

Numbers are given once and kept: a record that already has an archive number keeps it when its
batch is ingested again, and new records continue after the highest number of their volume.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date

UNKNOWN_TYPE = "未分类"
NO_ID = "无ID"
_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


def doc_id_for(file_id: str, first_page: int) -> str:
    return hashlib.sha256(f"{file_id}:{first_page}".encode()).hexdigest()[:24]


def record_id_for(doc_id: str) -> str:
    return "r" + doc_id


def record_year(form_date: date | None, fallback_year: int | None, scan_date: date) -> int:
    if form_date is not None:
        return form_date.year
    return fallback_year or scan_date.year


def archive_prefix(year: int, business_type: str | None, volume: int) -> str:
    return f"{year}-{business_type or UNKNOWN_TYPE}-{volume:03d}"


def volume_of(archive_no: str) -> str:
    """The volume (卷) an archive number belongs to: 年度-业务类型-卷号."""
    return archive_no.rpartition("-")[0]


def next_piece_numbers(prefix: str, existing: Iterable[str], count: int) -> list[str]:
    """`count` new archive numbers after the highest existing piece number under `prefix`."""
    highest = 0
    for number in existing:
        head, _, piece = number.rpartition("-")
        if head == prefix and piece.isdigit():
            highest = max(highest, int(piece))
    return [f"{prefix}-{highest + i:04d}" for i in range(1, count + 1)]


def file_name_for(year: int, business_type: str | None, person_id: str | None, title: str, taken: set[str]) -> str:
    stem = "-".join(
        _UNSAFE.sub("_", part) for part in (str(year), business_type or UNKNOWN_TYPE, person_id or NO_ID, title)
    )
    name = f"{stem}.pdf"
    n = 2
    while name in taken:
        # Two forms of one type for one person in one year: both kept, told apart by a suffix.
        name = f"{stem}-{n}.pdf"
        n += 1
    return name
