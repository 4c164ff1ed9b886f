"""Parse and check field values: ID numbers, unit codes, dates, names, amounts.

Each parser returns the normalised value or None; none of them guesses beyond what a check
can confirm (an ID is repaired only when exactly one repair passes the GB 11643 check).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import product

from stdnum.cn import uscc

from pipeline.extract.id_check import birth_date_of, is_valid_id
from pipeline.text import normalize_text

# Letters OCR puts where digits were printed (or handwritten).
_DIGIT_LOOKALIKES = {
    "O": "0",
    "D": "0",
    "Q": "0",
    "U": "0",
    "I": "1",
    "L": "1",
    "|": "1",
    "T": "7",
    "Z": "2",
    "S": "5",
    "B": "8",
    "G": "6",
    "A": "4",
    "口": "0",
    "〇": "0",
}
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")


def mask_id(value: str | None) -> str:
    """For logs: keep region and check digit, hide birth date and serial."""
    if not value:
        return "-"
    return value[:4] + "*" * max(len(value) - 6, 0) + value[-2:] if len(value) > 6 else "*" * len(value)


def id_candidates(raw: str) -> list[str]:
    """Every 18-character string `raw` could be, after mapping look-alike letters to digits."""
    text = normalize_text(raw)
    if len(text) != 18:
        return []
    options: list[list[str]] = []
    for pos, ch in enumerate(text):
        if ch.isdigit() or (pos == 17 and ch == "X"):
            options.append([ch])
        elif pos == 17 and ch in "K×x":
            options.append(["X"])
        elif ch in _DIGIT_LOOKALIKES:
            options.append([_DIGIT_LOOKALIKES[ch]])
        else:
            return []
    return ["".join(p) for p in product(*options)]


def parse_id_number(raw: str) -> tuple[str | None, bool]:
    """Return (valid ID, repaired?) or (None, False). Valid: check digit and birth date
    (pipeline.extract.id_check); the area code is never a reason to refuse a number."""
    text = normalize_text(raw)
    if _ID_SHAPE.match(text) and is_valid_id(text):
        return text, False
    valid = {c for c in id_candidates(text) if is_valid_id(c)}
    if len(valid) == 1:
        return valid.pop(), True
    return None, False


def id_birth_date(id_number: str) -> date | None:
    return birth_date_of(id_number)


def id_sex(id_number: str) -> str:
    return "男" if int(id_number[16]) % 2 == 1 else "女"


def parse_unit_code(raw: str) -> str | None:
    text = normalize_text(raw)
    if len(text) != 18:
        return None
    return text if uscc.is_valid(text) else None


_CN_DIGITS = {
    "〇": 0,
    "零": 0,
    "○": 0,
    "O": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def _cn_number(text: str) -> int | None:
    """一九九八 → 1998 (digit by digit); 十二 → 12; 二十三 → 23; 三十 → 30."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        t = _CN_DIGITS.get(tens, -1) if tens else 1
        o = _CN_DIGITS.get(ones, -1) if ones else 0
        return None if t < 0 or o < 0 else t * 10 + o
    # OCR mixes the Arabic 0 into 二〇〇二 freely.
    digits = [int(c) if c.isdigit() else _CN_DIGITS.get(c) for c in text]
    if any(d is None for d in digits):
        return None
    return int("".join(str(d) for d in digits))


_DATE_PATTERNS = [
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日?"),
    re.compile(r"(?P<y>\d{4})\s*[.\-/．]\s*(?P<m>\d{1,2})\s*[.\-/．]\s*(?P<d>\d{1,2})"),
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)"),
    re.compile(
        r"(?P<y>[〇零○O0一二三四五六七八九]{4})\s*年\s*(?P<m>[一二三四五六七八九十]{1,3})\s*月"
        r"\s*(?P<d>[一二三四五六七八九十]{1,3})\s*日?"
    ),
]
# A speck read as a point beside a date's own characters (2018年.8月11日): no date form puts one there.
_STRAY_MARKS = re.compile(r"(?<=[年月])[.,，。·、]+|[.,，。·、]+(?=[年月日])")
_MONTH_ONLY = re.compile(r"(?P<y>\d{4})\s*(?:年|[.\-/．])\s*(?P<m>\d{1,2})\s*月?$")


def parse_date(raw: str, *, earliest: int = 1900, latest: date | None = None, month_only: bool = True) -> date | None:
    """Any date form printed or written on the forms, to a date; None when not a plausible date.
    `month_only`: a year and month alone (2003年10) stands for the month's first day."""
    import unicodedata

    text = _STRAY_MARKS.sub("", unicodedata.normalize("NFKC", raw).replace(" ", ""))
    latest = latest or date.today().replace(year=date.today().year + 1)
    for pattern in _DATE_PATTERNS:
        m = pattern.search(text)
        if not m:
            continue
        y, mo, d = (_cn_number(m.group(k)) for k in ("y", "m", "d"))
        if y is None or mo is None or d is None:
            continue
        try:
            value = date(y, mo, d)
        except ValueError:
            continue
        if earliest <= value.year and value <= latest:
            return value
    m = _MONTH_ONLY.search(text) if month_only else None
    if m:
        y, mo = int(m.group("y")), int(m.group("m"))
        if 1 <= mo <= 12 and earliest <= y <= latest.year:
            return date(y, mo, 1)
    return None


# A date whose 月 and 日 (or the points) the recogniser lost: the year, then month and day run together
# (2019527, 2003年1027, 2019年0527日).
_RUN_TOGETHER = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*年?\s*(?P<md>\d{3,4})\s*日?$")


def recover_date(raw: str, *, earliest: int = 1900, latest: date | None = None) -> date | None:
    """A date read with a letter for a digit (z020-03-17) or with month and day run together, when
    exactly one reading is a real date in range: 2019527 is 2019-05-27 (52/7 is none); 2019112 could be
    1 Nov or 12 Jan and is refused."""
    import unicodedata

    text = unicodedata.normalize("NFKC", raw).replace(" ", "")
    # a look-alike letter touching a digit is that digit (each letter stands for one digit only)
    text = re.sub(
        r"(?<=\d)[A-Za-z口〇]|[A-Za-z口〇](?=\d)", lambda m: _DIGIT_LOOKALIKES.get(m.group().upper(), m.group()), text
    )
    direct = parse_date(text, earliest=earliest, latest=latest, month_only=False)
    if direct is not None and text != unicodedata.normalize("NFKC", raw).replace(" ", ""):
        return direct
    m = _RUN_TOGETHER.search(text)
    if m is None:
        return None
    latest = latest or date.today().replace(year=date.today().year + 1)
    y, md = int(m.group("y")), m.group("md")
    readings: set[date] = set()
    for cut in (1, 2):
        month, day = md[:cut], md[cut:]
        if not 1 <= len(day) <= 2 or (len(day) == 2 and len(month) == 1 and len(md) == 4):
            continue
        try:
            d = date(y, int(month), int(day))
        except ValueError:
            continue
        if earliest <= d.year and d <= latest:
            readings.add(d)
    return readings.pop() if len(readings) == 1 else None


# Variant glyphs the recogniser's dictionary holds beside the standard simplified character; the
# forms are printed and filled in simplified Chinese, so 顾钧眞 is 顾钧真.
_VARIANTS = str.maketrans(
    {
        "眞": "真",
        "靑": "青",
        "淸": "清",
        "敎": "教",
        "硏": "研",
        "吿": "告",
        "戶": "户",
        "內": "内",
        "卽": "即",
        "値": "值",
    }
)


def standard_forms(text: str) -> str:
    """`text` with variant glyphs replaced by the standard simplified characters."""
    return text.translate(_VARIANTS)


_NAME = re.compile(r"^[\u4e00-\u9fff]{2,5}$|^[\u4e00-\u9fff]{1,8}[·•・.][\u4e00-\u9fff]{1,10}$")


def parse_name(raw: str) -> str | None:
    """Han names (2–5 characters) and minority names joined by a middle dot (阿依古丽·买买提)."""
    import unicodedata

    text = standard_forms(unicodedata.normalize("NFKC", raw).strip().replace(" ", ""))
    text = re.sub(r"[•・.．]", "·", text)
    return text if _NAME.match(text) else None


# Han text with the brackets of a place or branch, (北京)科技有限公司, and the odd Latin letter or digit.
_ORG_TEXT = re.compile(r"^[\u4e00-\u9fff（）()A-Z0-9·&]+$")
_ORG_MIN_CHARS = 4


def parse_org_name(raw: str, endings: Sequence[str]) -> str | None:
    """A unit's name when it reads as a whole one: Han text ending in an organisational form (`endings`)
    with a distinctive part before it. 北京市朝阳区 (教育局 under a seal) and 有限责住公 fail."""
    text = standard_forms(raw.strip().replace(" ", "").replace("\u3000", ""))
    text = text.replace("(", "（").replace(")", "）")
    if len(text) < _ORG_MIN_CHARS or not _ORG_TEXT.match(text.upper()):
        return None
    ending = max((e for e in endings if text.endswith(e)), key=len, default=None)
    if ending is None or len(text) - len(ending) < 2 or _damaged_ending(text, ending, endings):
        return None
    return text


def _damaged_ending(text: str, ending: str, endings: Sequence[str]) -> bool:
    """Does the name end in a longer organisational form with one character dropped (有限任公司, 运输有公司,
    股份限公司)? The recogniser drops a character of a long line now and then and is sure of the rest.

    A dropped first character counts only when three or more remain: 限公司 is 有限公司 cut, but 理处 of
    管理处 is not 分理处 cut. A form read twice (中学中学) or begun and not finished (有限公局) is damaged too.
    """
    stem = text[: -len(ending)]
    if stem.endswith(ending):
        return True  # 第三中学中学: the form read twice
    for longer in endings:
        # 有限公局: a longer form begun (有限公) and ended by another one's last character
        if len(longer) >= 3 and any(
            stem.endswith(longer[:k]) and longer[:k] not in endings for k in range(2, len(longer))
        ):
            return True
        if len(longer) <= len(ending):
            continue
        for i in range(len(longer)):
            rest = longer[:i] + longer[i + 1 :]
            if len(rest) > len(ending) and (i > 0 or len(rest) >= 3) and text.endswith(rest):
                return True
    return False


def parse_sex(raw: str) -> str | None:
    text = normalize_text(raw)
    if text in ("男", "女"):
        return text
    return None


# A number with its separators as written or misread: 44,500.00, 44.500.00 (commas read as points), 44500
_AMOUNT_RUN = re.compile(r"-?\d[\d.,]*")


def parse_amount(raw: str) -> str | None:
    """An amount in yuan, to two decimals. Separators are read by position: the last one followed by one
    or two digits is the decimal point, every other one must group thousands (OCR reads a handwritten
    comma as a point), so 44.500.00 is 44500.00 and 17.871.12 is 17871.12, never 44.50 or 17.87.
    44.500 could be either and is refused."""
    import unicodedata

    text = unicodedata.normalize("NFKC", raw).replace("，", ",").replace(" ", "")
    runs = _AMOUNT_RUN.findall(text)
    if not runs:
        return None
    number = max(runs, key=len).rstrip(".,")
    sign = "-" if number.startswith("-") else ""
    parts = re.split(r"[.,]", number.lstrip("-"))
    seps = re.findall(r"[.,]", number)
    if len(parts) > 1 and len(parts[-1]) in (1, 2):
        integer, decimals = parts[:-1], parts[-1]
    elif seps == ["."]:
        return None  # 44.500: a point with three digits after it is a misread comma or a slip of the pen
    else:
        integer, decimals = parts, ""
    if any(len(group) != 3 for group in integer[1:]) or not integer[0]:
        return None
    try:
        return str(Decimal(f"{sign}{''.join(integer)}.{decimals or '0'}").quantize(Decimal("0.01")))
    except InvalidOperation:
        return None


_PHONE = re.compile(r"^\+?[\d\-()（）—]{7,20}$")


def parse_phone(raw: str) -> str | None:
    """Digits with the usual separators only: a date or an address that holds 7 digits is not a phone."""
    text = normalize_text(raw)
    if not _PHONE.match(text):
        return None
    digits = re.sub(r"[^\d-]", "", text.replace("—", "-"))
    return digits if 7 <= len(digits.replace("-", "")) <= 12 else None
