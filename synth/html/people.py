"""The person and unit a document is about, with an ID number issued the way real ones are.

Names, units, amounts and dates come from the first generator's value drawing (it is not layout);
the ID number, the address that goes with it and the unit's region are drawn here.
"""

from __future__ import annotations

import random
from dataclasses import replace

from synth.html.ids import IdOrigin, IssuedId, draw_origin, issued_id
from synth.values import ROADS, Case, credit_code, make_case, unit_name

_NO_CITY = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")


def place(issued: IssuedId) -> tuple[str, str, str]:
    """(province, city, county) to write in an address; municipalities have no separate city."""
    city = issued.prefecture if issued.prefecture not in _NO_CITY else ""
    county = issued.area.county if issued.area is not None else ""
    return issued.province, city, county


def html_case(rng: random.Random, origin: IdOrigin | None = None) -> tuple[Case, IssuedId]:
    """A case whose ID number was issued under a county code of the drawn origin."""
    base = make_case(rng)
    person = base.person
    issued = issued_id(rng, person.birth_date, person.sex, origin or draw_origin(rng))
    province, city, county = place(issued)
    address = person.address
    if rng.random() < 0.75:  # most still live where their card was issued
        address = f"{province}{city}{county}{rng.choice(ROADS)}{rng.randint(1, 299)}号"
        if rng.random() < 0.4:
            address += f"{rng.randint(1, 20)}号楼{rng.randint(1, 6)}单元{rng.randint(1, 9)}0{rng.randint(1, 4)}"
    personal_no = person.personal_no
    if len(personal_no) == 18:  # the decoy that looks like an ID number keeps looking like this one
        personal_no = issued.number[:6] + personal_no[6:]
    person = replace(
        person, id_number=issued.number, address=address, personal_no=personal_no, province=province or person.province
    )
    unit = base.unit
    if rng.random() < 0.6 and issued.area is not None:
        unit = replace(
            unit,
            name=unit_name(rng, city or province, county),
            code=credit_code(rng, issued.area.code),
        )
    return replace(base, person=person, unit=unit), issued
