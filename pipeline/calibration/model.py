"""The fitted calibrator: field features → P(the accepted value is right).

A logistic model over named features, stored as a small JSON (format version, sha256 of its
content) so it is read without scikit-learn and any change to the numbers is caught at load.
One model for all field kinds, with a bias and a confidence slope per kind: kinds with few
training errors borrow strength from the rest instead of being fitted on nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.calibration.features import FieldFeatures
from pipeline.errors import ConfigError

FORMAT_VERSION: Literal[1] = 1
_MIN_ENDING_SUPPORT = 15  # right values of a key before its endings are trusted
_EPS = 1e-4


def _logit(p: float) -> float:
    p = min(max(p, _EPS), 1 - _EPS)
    return math.log(p / (1 - p))


def typical_endings(samples: Iterable[tuple[FieldFeatures, bool]]) -> dict[str, list[str]]:
    """Per field key, the last characters its right values end with (seen twice and on 5 % of them).

    Learned from training fields, so no list of suffixes per field has to be written by hand.
    """
    by_key: dict[str, Counter[str]] = {}
    for f, right in samples:
        if right and f.ending:
            by_key.setdefault(f.key, Counter())[f.ending] += 1
    out: dict[str, list[str]] = {}
    for key, counts in by_key.items():
        total = sum(counts.values())
        if total >= _MIN_ENDING_SUPPORT:
            out[key] = sorted(c for c, n in counts.items() if n >= 2 and n >= 0.05 * total)
    return dict(sorted(out.items()))


def design_row(f: FieldFeatures, endings: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """The named inputs of the logistic model; a name the model has no weight for adds nothing."""
    k = f.kind.value
    raw = _logit(f.raw_confidence)
    chars = math.log1p(f.value_chars)
    row = {
        f"kind={k}": 1.0,
        "raw_logit": raw,
        f"raw_logit|kind={k}": raw,
        f"validator={f.validator}": 1.0,
        f"validator={f.validator}|kind={k}": 1.0,
        f"cross_check={f.cross_check}": 1.0,
        f"shape={f.shape}|kind={k}": 1.0,
        f"key={f.key}": 1.0,
        "label_like": float(f.label_like),
        f"shape={f.shape}|key={f.key}": 1.0,
        "log_chars": chars,
        f"log_chars|kind={k}": chars,
    }
    if f.label_score is not None:
        row["label_score"] = f.label_score
    if f.key in endings:
        typical = "typical" if f.ending in endings[f.key] else "atypical"
        row[f"ending={typical}|kind={k}"] = 1.0
        row[f"ending={typical}|key={f.key}"] = 1.0
    return row


class TrainingSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    batch: str = Field(description="the stored --keep folder the fields came from")
    seed: int
    fields: int
    wrong: int


class Calibration(BaseModel):
    """The artefact. `sha256` covers every other key, so an edited number fails the load."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: Literal[1] = FORMAT_VERSION
    method: Literal["logistic"] = "logistic"
    extractor_note: str = Field(default="", description="which extractor the fields came from (git commit)")
    trained_on: list[TrainingSource] = []
    regularization_c: float = Field(gt=0)
    intercept: float
    weights: dict[str, float]
    typical_endings: dict[str, list[str]] = Field(
        default={}, description="field key → last characters of its right training values"
    )
    sha256: str = ""

    def probability(self, features: FieldFeatures) -> float:
        if features.validator == "failed":
            # The value did not parse: it has no canonical form to accept, whatever the OCR says.
            return 0.0
        if features.cross_check == "disagreed":
            # Another reading of the document contradicts it, so one of the two is wrong. The training
            # batches hold too few such fields to learn how often, and accepting either unseen is the
            # costly error.
            return 0.0
        z = self.intercept + sum(
            self.weights.get(name, 0.0) * x for name, x in design_row(features, self.typical_endings).items()
        )
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def content_hash(self) -> str:
        body = self.model_dump(mode="json", exclude={"sha256"})
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def sealed(self) -> Calibration:
        return self.model_copy(update={"sha256": self.content_hash()})


def write_text_atomic(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; workers under other users read it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_calibration(model: Calibration, path: Path) -> Calibration:
    sealed = model.sealed()
    write_text_atomic(path, json.dumps(sealed.model_dump(mode="json"), ensure_ascii=False, indent=1) + "\n")
    return sealed


def load_calibration(path: Path) -> Calibration:
    try:
        model = Calibration.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as e:
        raise ConfigError(
            f"{path}: not a readable calibration ({e}); re-train it with `python bench/calibrate.py`"
        ) from e
    if model.sha256 != model.content_hash():
        raise ConfigError(
            f"{path}: sha256 does not match the content (edited by hand?); re-train it with `python bench/calibrate.py`"
        )
    return model
