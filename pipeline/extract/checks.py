"""Cross-checks: what one reading of a document says about another.

The birth date and sex encoded in an ID number must agree with those printed beside it; birth, work
start and retirement must come in that order (registry `date_order`). Each check gives a verdict to
every field it looked at. Confidences stay as read: the calibration weighs the verdicts, so the same
evidence counts once.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from pipeline.extract import validators as v
from schemas.models import CheckName, CheckOutcome, CheckVerdict, ExtractedField
from schemas.registry import get_registry

CROSS_CHECKS = frozenset({CheckName.ID_BIRTH_DATE, CheckName.ID_SEX, CheckName.DATE_ORDER})

# What the ID number encodes, by the key of the field printed beside it.
_ID_PARTS = {"birth_date": CheckName.ID_BIRTH_DATE, "sex": CheckName.ID_SEX}


def _verdict(check: CheckName, ok: bool | None, reason: str) -> CheckVerdict:
    if ok is None:
        return CheckVerdict(check=check, outcome=CheckOutcome.NOT_APPLICABLE, reason=reason)
    if ok:
        return CheckVerdict(check=check, outcome=CheckOutcome.PASSED)
    return CheckVerdict(check=check, outcome=CheckOutcome.FAILED, reason=reason)


def _id_verdicts(fields: dict[str, ExtractedField]) -> dict[str, list[CheckVerdict]]:
    ident = fields.get("id_number")
    id_value = ident.normalized if ident is not None else None
    out: dict[str, list[CheckVerdict]] = {}
    for key, check in _ID_PARTS.items():
        other = fields.get(key)
        if other is None and ident is None:
            continue
        encoded = None
        if id_value is not None:
            birth = v.id_birth_date(id_value)
            encoded = v.id_sex(id_value) if key == "sex" else (birth.isoformat() if birth else None)
        if encoded is None:
            verdict = _verdict(check, None, "no ID number read to compare with")
        elif other is None or other.normalized is None:
            verdict = _verdict(check, None, f"no {key} read to compare with")
        else:
            verdict = _verdict(check, other.normalized == encoded, f"{key} disagrees with the ID number")
        for k in ("id_number", key):
            if k in fields:
                out.setdefault(k, []).append(verdict)
    return out


def _order_verdicts(fields: dict[str, ExtractedField]) -> dict[str, list[CheckVerdict]]:
    order = get_registry().date_order
    dated = [(k, fields[k].normalized or "") for k in order if k in fields and fields[k].normalized]
    failed: dict[str, list[str]] = {k: [] for k, _ in dated}
    for (k1, d1), (k2, d2) in itertools.pairwise(dated):
        if d1 >= d2:
            for k in (k1, k2):
                failed[k].append(f"{k1} is not before {k2}")
    out: dict[str, list[CheckVerdict]] = {}
    for key in order:
        if key not in fields:
            continue
        if key not in failed or len(dated) < 2:
            out[key] = [_verdict(CheckName.DATE_ORDER, None, "no other date of the person to order it by")]
        else:
            out[key] = [_verdict(CheckName.DATE_ORDER, not failed[key], "; ".join(failed[key]))]
    return out


def cross_check(fields: Sequence[ExtractedField]) -> list[ExtractedField]:
    """The fields of one person (a document, or one row of a person table) with the verdicts of the
    cross-checks they take part in; verdicts of an earlier cross-check are replaced, not added to."""
    by_key = {f.key: f for f in fields}
    verdicts: dict[str, list[CheckVerdict]] = {}
    for found in (_id_verdicts(by_key), _order_verdicts(by_key)):
        for key, got in found.items():
            verdicts.setdefault(key, []).extend(got)
    return [
        f.model_copy(update={"checks": [c for c in f.checks if c.check not in CROSS_CHECKS] + verdicts.get(f.key, [])})
        for f in fields
    ]
