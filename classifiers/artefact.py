"""Trained classifier artefacts on disk: numpy arrays in an .npz plus a JSON manifest.

No pickle: the arrays are plain numbers and strings (np.load runs with allow_pickle=False), and the
manifest carries the npz's sha256, so a truncated or edited file is refused before it is used.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pipeline.errors import ConfigError

# FORMAT_VERSION changelog (bump when the arrays or their meaning change; loaders refuse others):
#   1 — char 1–3-gram tf-idf vocabulary ("^" marks top-region grams), idf, float16 coefficients per
#       class (last class "__unknown__"), and the ensemble calibrator's feature weights.
FORMAT_VERSION = 1


class ModelArtefactError(ConfigError):
    """A classifier artefact that cannot be used; retrain with `python -m training.form_classifier`."""


class IncompatibleModelError(ModelArtefactError):
    """The artefact was written by another format version than this code reads."""


class CorruptModelError(ModelArtefactError):
    """The artefact is missing, truncated, edited or not an artefact at all."""


@dataclass(frozen=True)
class Artefact:
    arrays: dict[str, npt.NDArray[Any]]
    meta: dict[str, Any]
    sha256: str


def manifest_path(npz_path: Path) -> Path:
    return npz_path.with_suffix(".json")


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the artefact is committed and shared
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_artefact(npz_path: Path, arrays: dict[str, npt.NDArray[Any]], meta: dict[str, Any]) -> str:
    """Write the arrays and then the manifest, each atomically; returns the npz's sha256.

    The manifest goes last: a crash in between leaves a manifest whose hash no longer matches, which
    loading reports as corrupt instead of silently using a half-new model.
    """
    for name, arr in arrays.items():
        if arr.dtype == object:
            raise ValueError(f"array {name} has dtype object; it would need pickle")
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    _atomic_write(npz_path, data)
    manifest = {"format_version": FORMAT_VERSION, "sha256": digest, "file": npz_path.name, **meta}
    _atomic_write(manifest_path(npz_path), (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    return digest


def load_artefact(npz_path: Path) -> Artefact:
    """The arrays and manifest; IncompatibleModelError or CorruptModelError when they cannot be used."""
    mpath = manifest_path(npz_path)
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorruptModelError(f"{mpath} is missing; run `python -m training.form_classifier`") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptModelError(f"{mpath} is not a readable manifest ({exc})") from exc
    if not isinstance(manifest, dict) or "format_version" not in manifest or "sha256" not in manifest:
        raise CorruptModelError(f"{mpath} lacks format_version or sha256")
    if manifest["format_version"] != FORMAT_VERSION:
        raise IncompatibleModelError(
            f"{npz_path} has format version {manifest['format_version']}, this code reads {FORMAT_VERSION}; "
            "run `python -m training.form_classifier` to rebuild it"
        )
    try:
        data = npz_path.read_bytes()
    except FileNotFoundError:
        raise CorruptModelError(f"{npz_path} is missing; run `python -m training.form_classifier`") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != manifest["sha256"]:
        raise CorruptModelError(f"{npz_path} does not match its manifest's sha256 (truncated or edited)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise CorruptModelError(f"{npz_path} is not a readable npz ({exc})") from exc
    meta = {k: v for k, v in manifest.items() if k not in ("format_version", "sha256", "file")}
    return Artefact(arrays=arrays, meta=meta, sha256=digest)
