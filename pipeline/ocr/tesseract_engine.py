"""Tesseract: the fallback recogniser and the page-orientation oracle (OSD).

Tesseract runs as a subprocess fed a PNG on stdin, with OMP_THREAD_LIMIT=1 in its own environment only,
so this process's environment is never touched and one page costs one core.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import shutil
import subprocess
from functools import lru_cache
from typing import ClassVar, Literal

import cv2
import numpy as np
from pydantic import Field

from pipeline.errors import MissingDependencyError, OcrError
from pipeline.ocr.base import OcrEngine, OcrOptions, check_image, clip_box, to_grey
from pipeline.ocr.upright import upright_turn
from pipeline.preprocess.orientation import Rotation
from pipeline.settings import OcrSettings
from schemas.models import OcrPage, Word

log = logging.getLogger(__name__)

# ~8.5 mm at 300 DPI: longer than any stroke of a form's 3-6 mm characters, shorter than any cell rule
_RULE_MIN_PX = 100
_OSD_ROTATE = re.compile(r"^Rotate:\s*(\d+)\s*$", re.MULTILINE)
_OSD_CONFIDENCE = re.compile(r"^Orientation confidence:\s*([0-9.]+)\s*$", re.MULTILINE)


class TesseractOcrOptions(OcrOptions):
    kind: ClassVar[Literal["tesseract"]] = "tesseract"
    lang: str = Field(default="chi_sim", description="+eng garbles Chinese labels and is 1.4x slower")
    psm: int = Field(default=6, ge=0, le=13, description="6: one uniform block, best once table lines are gone")
    remove_table_lines: bool = Field(
        default=True, description="without it chi_sim psm 6 loses whole tables (~70 % CER on our forms)"
    )
    timeout_seconds: float = Field(default=180.0, gt=0)

    @classmethod
    def from_settings(cls, settings: OcrSettings) -> TesseractOcrOptions:
        return cls(red_channel_grey=settings.red_channel_grey, lang=settings.tesseract_lang)


def _tesseract_binary() -> str:
    path = shutil.which("tesseract")
    if path is None:
        raise MissingDependencyError(
            "tesseract is not on PATH; install it with `apt-get install tesseract-ocr tesseract-ocr-chi-sim "
            "tesseract-ocr-osd` (or run `make system`)"
        )
    return path


def run_tesseract(image: np.ndarray, args: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run tesseract on `image` (PNG over stdin, result on stdout) with one OpenMP thread."""
    ok, png = cv2.imencode(".png", image)
    if not ok:
        raise OcrError("could not encode the page as PNG for tesseract; check the image array")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    cmd = [_tesseract_binary(), "stdin", "stdout", "-c", "user_defined_dpi=300", *args]
    try:
        return subprocess.run(cmd, input=png.tobytes(), capture_output=True, env=env, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise OcrError(f"tesseract took longer than {timeout:.0f} s on one page; raise timeout_seconds") from e


@lru_cache(maxsize=1)
def tesseract_version() -> str:
    out = subprocess.run([_tesseract_binary(), "--version"], capture_output=True, check=False, timeout=30)
    first = (out.stdout or out.stderr).decode("utf-8", "replace").splitlines()
    return first[0].strip() if first else "tesseract (unknown version)"


def remove_table_lines(grey: np.ndarray) -> np.ndarray:
    """Copy of `grey` with long horizontal and vertical rules painted white.

    Ruled cells make Tesseract's layout analysis treat a whole table as one image region and drop it;
    text strokes are far shorter than the kernels, so only the rules match the morphological opening."""
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    h, w = grey.shape
    horizontal = cv2.morphologyEx(
        ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(w // 25, _RULE_MIN_PX), 1))
    )
    vertical = cv2.morphologyEx(
        ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(h // 35, _RULE_MIN_PX)))
    )
    rules = cv2.dilate(cv2.bitwise_or(horizontal, vertical), np.ones((3, 3), np.uint8))
    out = grey.copy()
    out[rules > 0] = 255
    return out


def _parse_tsv(tsv: str, width: int, height: int) -> list[Word]:
    words: list[Word] = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        conf = float(row["conf"])
        if conf < 0:
            continue
        left, top = int(row["left"]), int(row["top"])
        box = clip_box(left, top, left + int(row["width"]), top + int(row["height"]), width, height)
        words.append(Word(text=text, box=box, confidence=min(max(conf / 100.0, 0.0), 1.0)))
    return words


class TesseractOcrEngine(OcrEngine):
    name: ClassVar[str] = "tesseract"
    options_type: ClassVar[type[OcrOptions]] = TesseractOcrOptions
    options: TesseractOcrOptions

    def __init__(self, options: TesseractOcrOptions | None = None) -> None:
        super().__init__(options)
        self._version = f"{tesseract_version()} lang={self.options.lang} psm={self.options.psm}"

    def version(self) -> str:
        return self._version

    def detect_orientation(self, image: np.ndarray) -> Rotation:
        return upright_turn(image)

    def recognize(self, image: np.ndarray) -> OcrPage:
        check_image(image)
        height, width = image.shape[:2]
        grey = to_grey(image, self.options.red_channel_grey)
        if self.options.remove_table_lines:
            grey = remove_table_lines(grey)
        args = ["-l", self.options.lang, "--psm", str(self.options.psm), "tsv"]
        done = run_tesseract(grey, args, self.options.timeout_seconds)
        if done.returncode != 0:
            stderr = done.stderr.decode("utf-8", "replace").strip()[:300]
            raise OcrError(
                f"tesseract failed (exit {done.returncode}): {stderr}; "
                f"check that the '{self.options.lang}' traineddata is installed"
            )
        words = _parse_tsv(done.stdout.decode("utf-8", "replace"), width, height)
        return OcrPage(engine=self.name, engine_version=self._version, width=width, height=height, words=words)


def osd_rotation(image: np.ndarray, min_confidence: float = 2.0, timeout: float = 60.0) -> int | None:
    """Clockwise rotation (0/90/180/270) that makes the page upright, by Tesseract OSD; None when OSD
    cannot tell (blank page, too few characters, or an answer below `min_confidence`)."""
    check_image(image)
    grey = to_grey(image, red_channel=True)
    done = run_tesseract(grey, ["--psm", "0"], timeout)
    out = done.stdout.decode("utf-8", "replace")
    rotate = _OSD_ROTATE.search(out)
    confidence = _OSD_CONFIDENCE.search(out)
    if done.returncode != 0 or rotate is None or confidence is None:
        log.debug("OSD gave no orientation: %s", done.stderr.decode("utf-8", "replace").strip()[-200:])
        return None
    if float(confidence.group(1)) < min_confidence:
        log.debug("OSD orientation %s below confidence %.2f", rotate.group(1), min_confidence)
        return None
    return int(rotate.group(1)) % 360
