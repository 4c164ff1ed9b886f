"""Six-digit area codes (GB/T 2260) with the years each was in use, read from python-stdnum's table.

A 公民身份号码 carries the code of the county where it was issued, not where or when its holder was
born: numbers were first issued from 1984 on, and again after a move, so a pensioner born in 1947 may
hold a code created in 1986. This table tells which codes such a number can carry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

_LINE = re.compile(r'^(?P<indent>\s*)(?P<code>\d+) (?P<key>province|county)="(?P<value>[^"]*)"')
_PERIOD = re.compile(r"^\[(?P<start>\d*)-(?P<end>\d*)\](?P<name>.+)$")
_KEZHOU = "6530"  # 克孜勒苏柯尔克孜自治州, where the archives this project serves come from


@dataclass(frozen=True)
class Area:
    code: str
    province: str
    prefecture: str  # the prefecture-level name ("" for a province's own code)
    county: str
    start: int | None  # first year in use; None: before the table begins
    end: int | None  # last year in use; None: still in use

    def in_use(self, year: int) -> bool:
        return (self.start is None or year >= self.start) and (self.end is None or year <= self.end)


def _periods(value: str) -> list[tuple[int | None, int | None, str]]:
    out: list[tuple[int | None, int | None, str]] = []
    for part in value.split(","):
        m = _PERIOD.match(part)
        if m is None:
            out.append((None, None, part))
        else:
            start, end = m["start"], m["end"]
            out.append((int(start) if start else None, int(end) if end else None, m["name"]))
    return out


@lru_cache(maxsize=1)
def all_areas() -> tuple[Area, ...]:
    """Every county-level code in stdnum's table, one entry per period of use."""
    text = resources.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    areas: list[Area] = []
    province, prov_code = "", ""
    prefectures: dict[str, str] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m is None:
            continue
        if m["key"] == "province":
            province, prov_code = m["value"], m["code"]
            continue
        code = prov_code + m["code"]
        periods = _periods(m["value"])
        if code.endswith("00"):
            prefectures[code[:4]] = periods[-1][2]
            continue
        if code[4:] == "01" and periods[-1][2] == "市辖区":
            continue
        for start, end, name in periods:
            if name in ("市辖区", "县"):
                continue
            areas.append(Area(code, province, prefectures.get(code[:4], ""), name, start, end))
    return tuple(areas)


@lru_cache(maxsize=1)
def known_codes() -> frozenset[str]:
    """Every code the table knows in any period, prefecture and province codes included."""
    text = resources.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    codes: set[str] = set()
    prov = ""
    for line in text.splitlines():
        m = _LINE.match(line)
        if m is None:
            continue
        if m["key"] == "province":
            prov = m["code"]
            codes.add(prov + "0000")
        else:
            codes.add(prov + m["code"])
    return frozenset(codes)


@lru_cache(maxsize=1)
def created_after_1984() -> tuple[Area, ...]:
    """Codes created in or after 1984 and in use for a while: what a first or later ID card carries."""
    return tuple(a for a in all_areas() if a.start is not None and a.start >= 1984 and a.province[:2] != "台湾")


def kezhou() -> tuple[Area, ...]:
    return tuple(a for a in all_areas() if a.code.startswith(_KEZHOU))
