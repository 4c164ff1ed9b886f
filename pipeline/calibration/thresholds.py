"""Per field kind acceptance thresholds, chosen from the measured precision curve.

A threshold is the lowest calibrated probability at which the fields of that kind that reach it
are expected to be right at least `target` of the time (the mean out-of-fold probability of the
fields accepted), provided the errors actually measured there do not contradict the target (a
one-sided binomial test at `alpha`), and never below `floor`. Going by the measured errors alone
makes the threshold jump with every single error of a small sample; going by the model alone
would trust a tail it may have wrong.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.calibration.model import write_text_atomic
from pipeline.errors import ConfigError
from schemas.registry_models import FieldKind

FORMAT_VERSION: Literal[1] = 1
POOLED: Literal["pooled"] = "pooled"
# Below this chance of seeing the measured errors if the target held, the target is taken as not
# met. Lenient values (0.05) let a kind with 2 errors in 120 through; a wrong value accepted
# silently costs more than a needless review, so the veto is quick.
ALPHA = 0.2


class KindThreshold(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = Field(ge=0.0, le=1.0)
    support: int = Field(ge=0, description="training fields of this kind")
    precision: float = Field(ge=0.0, le=1.0, description="measured, out of fold, at the threshold")
    expected_precision: float = Field(ge=0.0, le=1.0, description="mean calibrated probability there")
    coverage: float = Field(ge=0.0, le=1.0, description="share of the kind's fields at or above it")
    source: Literal["measured", "pooled"] = Field(
        description="pooled: too few fields of this kind, the threshold over all kinds applies"
    )


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: Literal[1] = FORMAT_VERSION
    calibration_sha256: str = Field(description="the calibration these thresholds were chosen for")
    target_precision: float = Field(gt=0.0, le=1.0)
    floor: float = Field(ge=0.0, le=1.0, description="no kind's threshold goes below this")
    alpha: float = Field(gt=0.0, lt=1.0, description="significance of the measured-errors veto")
    pooled: KindThreshold
    by_kind: dict[FieldKind, KindThreshold] = {}
    by_key: dict[str, KindThreshold] = Field(
        default={},
        description="keys with enough training fields of their own: a kind mixes reliable keys (postcode) "
        "with weak ones (unit_name), and one threshold for both wastes the reliable ones",
    )

    def for_kind(self, kind: FieldKind) -> float:
        entry = self.by_kind.get(kind)
        return entry.threshold if entry is not None else self.pooled.threshold

    def for_field(self, key: str, kind: FieldKind) -> float:
        entry = self.by_key.get(key)
        return entry.threshold if entry is not None else self.for_kind(kind)


@dataclass(frozen=True)
class CurvePoint:
    threshold: float
    accepted: int
    right: int
    expected_right: float

    @property
    def precision(self) -> float:
        return self.right / self.accepted if self.accepted else 1.0

    @property
    def expected_precision(self) -> float:
        return self.expected_right / self.accepted if self.accepted else 1.0


def precision_curve(probs: Sequence[float], right: Sequence[bool]) -> list[CurvePoint]:
    """One point per distinct probability, highest first: what accepting from there down gives."""
    order = sorted(zip(probs, right, strict=True), key=lambda pr: -pr[0])
    points: list[CurvePoint] = []
    n_right = 0
    expected = 0.0
    for i, (p, ok) in enumerate(order):
        accepted = i + 1
        n_right += ok
        expected += p
        if i + 1 == len(order) or order[i + 1][0] < p:
            points.append(CurvePoint(p, accepted, n_right, expected))
    return points


def _at_least(k: int, n: int, q: float) -> float:
    """P(at least k errors in n fields) when each is wrong with probability q."""
    return 1.0 - sum(math.comb(n, i) * q**i * (1 - q) ** (n - i) for i in range(k))


def choose_threshold(
    probs: Sequence[float],
    right: Sequence[bool],
    target: float,
    floor: float,
    source: Literal["measured", "pooled"],
    alpha: float = ALPHA,
) -> KindThreshold:
    """The lowest threshold meeting the target; above every probability when none does."""
    n = len(probs)
    best: CurvePoint | None = None
    for point in precision_curve(probs, right):
        if point.threshold < floor:
            break
        errors = point.accepted - point.right
        plausible = _at_least(errors, point.accepted, 1 - target) >= alpha
        if point.expected_precision >= target and plausible:
            best = point
    if best is None:
        return KindThreshold(
            threshold=1.0, support=n, precision=1.0, expected_precision=1.0, coverage=0.0, source=source
        )
    return KindThreshold(
        threshold=round(best.threshold, 6),
        support=n,
        precision=round(best.precision, 4),
        expected_precision=round(best.expected_precision, 4),
        coverage=round(best.accepted / n, 4),
        source=source,
    )


def choose_thresholds(
    kinds: Sequence[FieldKind],
    probs: Sequence[float],
    right: Sequence[bool],
    *,
    target: float,
    floor: float,
    min_support: int,
    calibration_sha256: str,
    alpha: float = ALPHA,
    keys: Sequence[str] | None = None,
    key_min_support: int = 100,
) -> Thresholds:
    """Per kind, and per key where a key alone has `key_min_support` training fields."""
    pooled = choose_threshold(probs, right, target, floor, POOLED, alpha)
    by_key: dict[str, KindThreshold] = {}
    for key in sorted(set(keys or [])):
        idx = [i for i, k in enumerate(keys or []) if k == key]
        if len(idx) >= key_min_support:
            by_key[key] = choose_threshold(
                [probs[i] for i in idx], [right[i] for i in idx], target, floor, "measured", alpha
            )
    by_kind: dict[FieldKind, KindThreshold] = {}
    for kind in sorted(set(kinds)):
        idx = [i for i, k in enumerate(kinds) if k is kind]
        if len(idx) < min_support:
            by_kind[kind] = pooled.model_copy(update={"support": len(idx), "source": POOLED})
            continue
        by_kind[kind] = choose_threshold(
            [probs[i] for i in idx], [right[i] for i in idx], target, floor, "measured", alpha
        )
    return Thresholds(
        calibration_sha256=calibration_sha256,
        target_precision=target,
        floor=floor,
        alpha=alpha,
        pooled=pooled,
        by_kind=by_kind,
        by_key=by_key,
    )


def save_thresholds(thresholds: Thresholds, path: Path) -> None:
    header = (
        "# Written by `python bench/calibrate.py`: per field kind, the lowest calibrated probability at\n"
        "# which the accepted training fields are expected to meet the target precision and their\n"
        "# measured errors do not contradict it. Re-run that command; do not edit by hand.\n"
    )
    body = yaml.safe_dump(thresholds.model_dump(mode="json"), allow_unicode=True, sort_keys=False)
    write_text_atomic(path, header + body)


def load_thresholds(path: Path) -> Thresholds:
    try:
        return Thresholds.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as e:
        raise ConfigError(
            f"{path}: not a readable thresholds file ({e}); re-write it with `python bench/calibrate.py`"
        ) from e
