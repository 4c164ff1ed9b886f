"""An engine that recognises nothing: for dry runs, layout-only runs and tests of the stages around OCR.

It has no model of text, so it leaves pages turned as scanned (the base `detect_orientation`) and needs
neither RapidOCR nor Tesseract.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from pipeline.ocr.base import OcrEngine, OcrOptions, check_image
from schemas.models import OcrPage


class NullOcrOptions(OcrOptions):
    kind: ClassVar[Literal["null"]] = "null"


class NullOcrEngine(OcrEngine):
    name: ClassVar[str] = "null"
    options_type: ClassVar[type[OcrOptions]] = NullOcrOptions

    def version(self) -> str:
        return "null-1"

    def recognize(self, image: np.ndarray) -> OcrPage:
        check_image(image)
        height, width = image.shape[:2]
        return OcrPage(engine=self.name, engine_version=self.version(), width=width, height=height, words=[])
