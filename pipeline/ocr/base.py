"""The one interface every OCR engine implements, and the options model each engine takes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import OcrError
from pipeline.preprocess.orientation import Rotation
from pipeline.settings import OcrSettings
from schemas.models import OcrPage


class OcrOptions(BaseModel):
    """Base of every engine's options. Frozen: options are never mutated once an engine holds them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ClassVar[str]
    red_channel_grey: bool = Field(default=True, description="grey from the red channel: red seals vanish")

    @classmethod
    def from_settings(cls, settings: OcrSettings) -> OcrOptions:
        return cls(red_channel_grey=settings.red_channel_grey)


class OcrEngine(ABC):
    """Recognises one 300-DPI working page. Engines never parallelise internally: one engine thread per
    worker process is what makes throughput scale linearly with workers."""

    name: ClassVar[str]
    options_type: ClassVar[type[OcrOptions]]

    def __init__(self, options: OcrOptions | None = None) -> None:
        opts = options if options is not None else self.options_type()
        if not isinstance(opts, self.options_type):
            raise TypeError(f"{type(self).__name__} takes {self.options_type.__name__}, got {type(opts).__name__}")
        self.options = opts

    @abstractmethod
    def version(self) -> str:
        """Engine and model version, recorded with every page so results can be traced and re-run."""

    @abstractmethod
    def recognize(self, image: np.ndarray) -> OcrPage:
        """Words (or, for line-level engines, text lines) with boxes in `image` pixels and confidence 0..1.

        `image` is BGR or grey uint8 and is never modified."""

    def detect_orientation(self, image: np.ndarray) -> Rotation:
        """Clockwise quarter turn that makes `image` (a page before OCR) upright; 0 when it cannot be told.

        Telling up from down takes a model of text, so it is the engine's job. An engine without one
        leaves the page as scanned."""
        return 0


def check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise OcrError("OCR needs a grey or BGR uint8 image array; decode the page with OpenCV first")
    if image.ndim == 3 and image.shape[2] not in (3, 4):
        raise OcrError(f"OCR needs 1, 3 or 4 channels, got {image.shape[2]}; convert the page to BGR first")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise OcrError("OCR got an empty image; the page split or preprocessing produced nothing")


def to_grey(image: np.ndarray, red_channel: bool) -> np.ndarray:
    """Grey copy for recognition. The red channel makes red seals and stamps (bright in R) vanish while
    black print stays black; the luminance formula would keep seals as mid-grey clutter over the text."""
    if image.ndim == 2:
        return image
    if red_channel:
        return np.ascontiguousarray(image[:, :, 2])
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(image, code)


def clip_box(x0: float, y0: float, x1: float, y1: float, width: int, height: int) -> tuple[int, int, int, int]:
    """Integer box inside the image, never inverted or empty."""
    ix0 = min(max(int(np.floor(x0)), 0), width - 1)
    iy0 = min(max(int(np.floor(y0)), 0), height - 1)
    ix1 = min(max(int(np.ceil(x1)), ix0 + 1), width)
    iy1 = min(max(int(np.ceil(y1)), iy0 + 1), height)
    return ix0, iy0, ix1, iy1
