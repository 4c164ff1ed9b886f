"""公民身份号码 the way real archives hold them: issued under the code of the county of issue.

Three origins, all with a right check digit (GB 11643, ISO 7064 MOD 11-2) and a real birth date:
- ``birth_year``: the code was in use in the holder's birth year (what a strict validator expects);
- ``newer``: the code was created after the birth year (a county formed in 1986, a card issued after a
  move), so a validator that ties the code to the birth year rejects a right number;
- ``unknown``: a code older than any list the validator knows (a county abolished before the tables
  begin); only the province and prefecture digits are recognisable.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Literal

from stdnum.cn import ric

from synth.html.areas import Area, all_areas, created_after_1984, known_codes

IdOrigin = Literal["birth_year", "newer", "unknown"]
ORIGIN_SHARES: tuple[tuple[IdOrigin, float], ...] = (("newer", 0.4), ("unknown", 0.05), ("birth_year", 0.55))
FIRST_ISSUE_YEAR = 1984  # resident ID cards were first issued in 1984
_XINJIANG = "65"


@dataclass(frozen=True)
class IssuedId:
    number: str
    origin: IdOrigin
    area: Area | None  # None for an unknown code
    province: str
    prefecture: str


def check_digit(body17: str) -> str:
    return ric.calc_check_digit(body17 + "0")


def draw_origin(rng: random.Random) -> IdOrigin:
    roll, acc = rng.random(), 0.0
    for origin, share in ORIGIN_SHARES:
        acc += share
        if roll < acc:
            return origin
    return "birth_year"


def _serial(rng: random.Random, sex: str) -> str:
    # the third sequence digit is odd for men, even for women
    return f"{rng.randint(0, 99):02d}{rng.randrange(1 if sex == '男' else 0, 10, 2)}"


def _pick(rng: random.Random, pool: list[Area]) -> Area:
    local = [a for a in pool if a.code.startswith(_XINJIANG)]
    return rng.choice(local if local and rng.random() < 0.45 else pool)


def _newer(rng: random.Random, birth: date) -> Area:
    # a code renamed later (长阳县 → 长阳土家族自治县 in 1984) was in use in the birth year all the same
    existed = {a.code for a in all_areas() if a.in_use(birth.year)}
    pool = [
        a
        for a in created_after_1984()
        if a.start is not None
        and a.start > birth.year
        and (a.end is None or a.end >= max(a.start, birth.year + 16))
        and a.code not in existed
    ]
    return _pick(rng, pool)


def _in_birth_year(rng: random.Random, birth: date) -> Area:
    issued = max(FIRST_ISSUE_YEAR, birth.year + 16)
    pool = [a for a in all_areas() if a.in_use(birth.year) and a.in_use(issued) and a.prefecture]
    return _pick(rng, pool)


def _unknown(rng: random.Random) -> tuple[str, Area]:
    """A code no table lists, under a prefecture that exists (so its first four digits look right)."""
    known = known_codes()
    areas = [a for a in all_areas() if a.prefecture and a.prefecture not in ("市辖区", "县")]
    for _ in range(200):
        near = _pick(rng, areas)
        code = near.code[:4] + f"{rng.randint(21, 89):02d}"
        if code not in known:
            return code, near
    raise ValueError("no unused county code found")  # every prefecture full: the table changed shape


def issued_id(rng: random.Random, birth: date, sex: str, origin: IdOrigin) -> IssuedId:
    """A number for someone born on `birth`, of `sex`, issued under a code of the given origin."""
    if origin == "unknown":
        code, near = _unknown(rng)
        area: Area | None = None
        province, prefecture = near.province, near.prefecture
    else:
        area = _newer(rng, birth) if origin == "newer" else _in_birth_year(rng, birth)
        code, province, prefecture = area.code, area.province, area.prefecture
    body = f"{code}{birth:%Y%m%d}{_serial(rng, sex)}"
    return IssuedId(body + check_digit(body), origin, area, province, prefecture)
