"""Where the calibration and thresholds live, and loading them once, checked against each other."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import schemas
from pipeline.calibration.model import Calibration, load_calibration
from pipeline.calibration.thresholds import Thresholds, load_thresholds
from pipeline.errors import ConfigError
from pipeline.settings import DecideSettings

log = logging.getLogger(__name__)

DECIDE_DIR = Path(schemas.__file__).parent / "decide"
CALIBRATION_FILE = DECIDE_DIR / "calibration.json"
THRESHOLDS_FILE = DECIDE_DIR / "thresholds.yaml"


@dataclass(frozen=True)
class DecisionModel:
    calibration: Calibration
    thresholds: Thresholds


@lru_cache(maxsize=4)
def _load(calibration_file: Path, thresholds_file: Path) -> DecisionModel:
    calibration = load_calibration(calibration_file)
    thresholds = load_thresholds(thresholds_file)
    if thresholds.calibration_sha256 != calibration.sha256:
        # Thresholds are points on one calibration's probability scale; on another they mean nothing.
        raise ConfigError(
            f"{thresholds_file} was chosen for another calibration than {calibration_file}; "
            "re-run `python bench/calibrate.py` to write both"
        )
    log.info(
        "calibration %s (%d weights), thresholds for %d field kinds",
        calibration.sha256[:12],
        len(calibration.weights),
        len(thresholds.by_kind),
    )
    return DecisionModel(calibration, thresholds)


def decision_model(settings: DecideSettings) -> DecisionModel | None:
    """The loaded pair, or None when calibration is switched off."""
    if not settings.calibrated:
        return None
    return _load(
        (settings.calibration_file or CALIBRATION_FILE).resolve(),
        (settings.thresholds_file or THRESHOLDS_FILE).resolve(),
    )
