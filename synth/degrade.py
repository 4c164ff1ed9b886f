"""What a scanner and the paper do to a clean page: tint, blur, skew, noise, rotation, compression.

The ground truth records the skew and rotation applied here, so preprocessing can be measured
against them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
from PIL import Image

Mode = Literal["color", "gray", "bitonal"]
Rotation = Literal[0, 90, 180, 270]


@dataclass(frozen=True)
class ScanParams:
    rotation: Rotation  # clockwise
    skew_deg: float  # positive = clockwise
    mode: Mode
    paper: tuple[int, int, int]
    blur_sigma: float  # 0 = sharp
    noise_sigma: float
    jpeg_quality: int | None  # an extra lossy generation (a scan re-saved by some tool), or None
    threshold: int  # for bitonal pages
    edge_shadow: int  # 0 none, else 1..4 = which edge has the lid's shadow
    specks: int
    seed: int


def draw_params(rng: random.Random, *, blank: bool = False, mode: Mode | None = None) -> ScanParams:
    """Scan settings for one page; most pages are mild, a few are hard."""
    roll = rng.random()
    rotation: Rotation = 0 if roll < 0.88 else (90, 180, 270)[rng.randrange(3)]
    magnitude = rng.uniform(0, 0.4) if rng.random() < 0.55 else rng.uniform(0.4, 3.0)
    if mode is None:
        m = rng.random()
        mode = "color" if m < 0.55 else "gray" if m < 0.85 else "bitonal"
    tone = rng.randint(236, 252)
    return ScanParams(
        rotation=rotation,
        skew_deg=round(magnitude * rng.choice((-1, 1)), 2),
        mode=mode,
        paper=(tone, tone - rng.randint(0, 4), tone - rng.randint(2, 12)),
        blur_sigma=rng.uniform(0.5, 1.2) if rng.random() < 0.3 else 0.0,
        noise_sigma=rng.uniform(1.0, 2.5) if blank else rng.uniform(1.5, 4.5),
        jpeg_quality=rng.randint(25, 55) if rng.random() < 0.15 else None,
        threshold=rng.randint(150, 190),
        edge_shadow=rng.randint(1, 4) if rng.random() < 0.2 else 0,
        specks=rng.randint(0, 40),
        seed=rng.getrandbits(63),
    )


def _edge_shadow(arr: np.ndarray, edge: int) -> None:
    """Darken one edge in place (1 top, 2 bottom, 3 left, 4 right), as a lid that did not close flat."""
    view = arr if edge in (1, 2) else arr.swapaxes(0, 1)
    band = max(4, min(arr.shape[:2]) // 80)
    rows = view[:band] if edge in (1, 3) else view[::-1][:band]
    ramp = np.linspace(0.35, 1.0, band, dtype=np.float32).reshape((band,) + (1,) * (rows.ndim - 1))
    rows[...] = (rows * ramp).astype(np.uint8)


def scan(page: Image.Image, params: ScanParams) -> Image.Image:
    """Degrade a clean RGB page; returns RGB, L or 1-bit according to `params.mode`.

    All work stays in uint8 with OpenCV: an A4 page at 300 DPI is 26 MB of RGB, and float copies of it
    made this step the slowest of the generator.
    """
    gen = np.random.default_rng(params.seed)
    arr: np.ndarray = np.asarray(page.convert("RGB"))
    if params.mode == "color":
        paper = [float(v) for v in params.paper]
    else:
        # scanning in grey: one channel from here on (three times cheaper)
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY)
        paper = [sum(params.paper) / 3]
    ramp = np.arange(256, dtype=np.float32)
    lut = np.stack([ramp * (p / 255.0) for p in paper], axis=-1).astype(np.uint8)
    arr = cv2.LUT(arr, lut.reshape(256, 1, len(paper)) if arr.ndim == 3 else lut[:, 0])
    h, w = arr.shape[:2]
    for _ in range(params.specks):
        y, x = int(gen.integers(0, h - 3)), int(gen.integers(0, w - 3))
        size = int(gen.integers(1, 4))
        arr[y : y + size, x : x + size] = arr[y : y + size, x : x + size] // 3
    if params.edge_shadow:
        _edge_shadow(arr, params.edge_shadow)
    if params.blur_sigma > 0:
        arr = cv2.GaussianBlur(arr, (0, 0), params.blur_sigma)
    if params.skew_deg:
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -params.skew_deg, 1.0)
        arr = cv2.warpAffine(
            arr, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=tuple(paper)
        )
    cv2.setRNGSeed(int(gen.integers(0, 2**31 - 1)))
    noise: np.ndarray = np.empty((h, w), dtype=np.int16)
    cv2.randn(noise, np.array([0.0]), np.array([params.noise_sigma]))
    if arr.ndim == 3:
        noise = cv2.merge([noise, noise, noise])
    arr = cv2.add(arr, noise, dtype=cv2.CV_8U)
    if params.jpeg_quality is not None:
        ok, buf = cv2.imencode(".jpg", arr, [cv2.IMWRITE_JPEG_QUALITY, params.jpeg_quality])
        decoded = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if ok else None
        if decoded is not None:
            arr = decoded
    if params.rotation:
        arr = cv2.rotate(
            arr,
            {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}[params.rotation],
        )
    if params.mode == "color":
        return Image.fromarray(arr, "RGB")
    gray = Image.fromarray(arr, "L")
    if params.mode == "gray":
        return gray
    return gray.point(lambda v: 255 if v > params.threshold else 0, mode="1")
