"""An OCR engine that fails on purpose: every `fail_every`-th page raises OcrError (a retryable error),
the others come back empty. Exercises retry, PARTIAL and quarantine paths without a real engine fault."""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from pipeline.errors import OcrError
from pipeline.ocr.base import OcrEngine, OcrOptions, check_image
from schemas.models import OcrPage


class FaultyOcrOptions(OcrOptions):
    kind: ClassVar[Literal["faulty"]] = "faulty"
    fail_every: int = Field(default=1, ge=1, description="1: every page fails; 2: every second page …")


class FaultyOcrEngine(OcrEngine):
    name: ClassVar[str] = "faulty"
    options_type: ClassVar[type[OcrOptions]] = FaultyOcrOptions
    options: FaultyOcrOptions

    def __init__(self, options: FaultyOcrOptions | None = None) -> None:
        super().__init__(options)
        self.calls = 0

    def version(self) -> str:
        return f"faulty-1 every={self.options.fail_every}"

    def recognize(self, image: np.ndarray) -> OcrPage:
        check_image(image)
        self.calls += 1
        if self.calls % self.options.fail_every == 0:
            raise OcrError(f"injected OCR failure on call {self.calls}")
        height, width = image.shape[:2]
        return OcrPage(engine=self.name, engine_version=self.version(), width=width, height=height)
