"""Per field kind acceptance thresholds, chosen from the measured precision curve.

A threshold is the lowest calibrated probability at which the fields of that kind that reach it
were right at least `target` of the time, measured on out-of-fold predictions, and never below
`floor`: a kind that simply showed no errors in a small sample would otherwise accept fields the
calibrator itself expects to be wrong one time in three.
"""

from __future__ import annotations

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


class KindThreshold(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = Field(ge=0.0, le=1.0)
    support: int = Field(ge=0, description="training fields of this kind")
    precision: float = Field(ge=0.0, le=1.0, description="measured, out of fold, at the threshold")
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
    pooled: KindThreshold
    by_kind: dict[FieldKind, KindThreshold] = {}

    def for_kind(self, kind: FieldKind) -> float:
        entry = self.by_kind.get(kind)
        return entry.threshold if entry is not None else self.pooled.threshold


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


def choose_threshold(
    probs: Sequence[float],
    right: Sequence[bool],
    target: float,
    floor: float,
    source: Literal["measured", "pooled"],
) -> KindThreshold:
    """The lowest threshold meeting the target; above every probability when none does."""
    n = len(probs)
    best: CurvePoint | None = None
    for point in precision_curve(probs, right):
        if point.threshold < floor:
            break
        if point.precision >= target:
            best = point
    if best is None:
        return KindThreshold(threshold=1.0, support=n, precision=1.0, coverage=0.0, source=source)
    return KindThreshold(
        threshold=round(best.threshold, 6),
        support=n,
        precision=round(best.precision, 4),
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
) -> Thresholds:
    pooled = choose_threshold(probs, right, target, floor, POOLED)
    by_kind: dict[FieldKind, KindThreshold] = {}
    for kind in sorted(set(kinds)):
        idx = [i for i, k in enumerate(kinds) if k is kind]
        if len(idx) < min_support:
            by_kind[kind] = pooled.model_copy(update={"support": len(idx), "source": POOLED})
            continue
        by_kind[kind] = choose_threshold([probs[i] for i in idx], [right[i] for i in idx], target, floor, "measured")
    return Thresholds(
        calibration_sha256=calibration_sha256,
        target_precision=target,
        floor=floor,
        pooled=pooled,
        by_kind=by_kind,
    )


def save_thresholds(thresholds: Thresholds, path: Path) -> None:
    header = (
        "# Written by `python bench/calibrate.py`: per field kind, the lowest calibrated probability at\n"
        "# which accepted fields met the target precision on the training batches. Re-run, do not edit.\n"
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
