"""The GB 11643 公民身份号码 check as real archives need it.

A number is valid when it has 17 digits and a right check digit (ISO 7064 MOD 11-2) and its digits
7–14 are a real birth date, not in the future and not before 1880. The six-digit area code is that
of the county where the number was issued (from 1984 on, and again after a move), not where or when
its holder was born: a pensioner born in 1947 in 阿图什市 holds 653001…, a code created in 1986. So
the code is only looked up in the table of every code used in any period (GB/T 2260 as python-stdnum
ships it), and a code the table does not know is a warning, never a rejection: the table lacks codes
abolished before it begins. (stdnum's own `ric.is_valid` ties the code to the birth year, and its
`get_birth_place` raises on codes it does not know: neither is used here.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from stdnum import numdb

EARLIEST_BIRTH_YEAR = 1880  # the oldest pensioner in a 1990s file was born about then
_SHAPE = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]


@dataclass(frozen=True, slots=True)
class IdCheck:
    number: str
    valid: bool
    """Check digit right and a real birth date: the number can stand as read."""
    reason: str | None = None
    """Why it is not valid."""
    birth: date | None = None
    area_known: bool = False
    """The area code was in use in some period (a warning when not, never a rejection)."""


def check_digit(body17: str) -> str:
    """The 18th character for the first 17 digits (ISO 7064 MOD 11-2)."""
    total = sum(int(c) * w for c, w in zip(body17, _WEIGHTS, strict=True))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def birth_date_of(number: str) -> date | None:
    """The date digits 7–14 encode, or None when they are no calendar date."""
    digits = number[6:14]
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def area_known(code: str) -> bool:
    """Is `code` (six digits) a county, prefecture or province code of any period in GB/T 2260?"""
    if len(code) != 6 or not code.isdigit():
        return False
    parts = numdb.get("cn/loc").info(code)
    # info() splits the code into the province (2 digits) and the rest (4); a code it does not know
    # comes back with empty properties for the unknown part.
    return len(parts) == 2 and "county" in parts[1][1]


def check_id(number: str, *, today: date | None = None) -> IdCheck:
    """`number` (upper case, no separators) as a 公民身份号码: valid or why not, and its area."""
    if not _SHAPE.match(number):
        return IdCheck(number, False, "not 17 digits and a check character")
    if check_digit(number[:17]) != number[17]:
        return IdCheck(number, False, "check digit wrong")
    birth = birth_date_of(number)
    if birth is None:
        return IdCheck(number, False, "birth date digits are no calendar date")
    if birth.year < EARLIEST_BIRTH_YEAR or birth > (today or date.today()):
        return IdCheck(number, False, f"birth date {birth.isoformat()} out of range", birth)
    return IdCheck(number, True, None, birth, area_known(number[:6]))


def is_valid_id(number: str, *, today: date | None = None) -> bool:
    return check_id(number, today=today).valid
