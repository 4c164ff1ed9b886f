"""How the real engines tell which way up a page is: the line tests of pipeline/preprocess/orientation.py
with RapidOCR's 0/180 text-line classifier for up or down, and Tesseract OSD only where a test is unsure.

RapidOCR and Tesseract orient pages the same way (measured together in bench/orientation.py), so a run's
pages turn the same whichever engine reads them. The null engine uses neither model.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import numpy as np

from pipeline.preprocess.orientation import Rotation, UprightMethod, detect_rotation


@lru_cache(maxsize=1)
def _line_classifier() -> Any:
    """RapidOCR's 0/180 text-line classifier with one onnxruntime thread, loaded once per process."""
    import rapidocr_onnxruntime
    from rapidocr_onnxruntime.ch_ppocr_cls import TextClassifier
    from rapidocr_onnxruntime.utils import read_yaml

    root = Path(rapidocr_onnxruntime.__file__).parent
    config = read_yaml(str(root / "config.yaml"))["Cls"]
    config.update(model_path=str(root / config["model_path"]), intra_op_num_threads=1, inter_op_num_threads=1)
    return TextClassifier(config)


def classify_lines(crops: list[np.ndarray]) -> list[tuple[str, float]]:
    """("0" or "180", confidence) for each text-line crop, by RapidOCR's line classifier."""
    _images, results, _elapsed = _line_classifier()(crops)
    return cast(list[tuple[str, float]], results)


def upright_turn(image: np.ndarray, method: UprightMethod = "lines") -> Rotation:
    """Clockwise quarter turn that makes `image` upright (0 when it cannot be told)."""
    # imported here: the Tesseract engine builds on this module
    from pipeline.ocr.tesseract_engine import osd_rotation

    return detect_rotation(image, classify_lines, osd_rotation, method)
