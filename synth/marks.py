"""Marks a person adds to a printed form: hand-written values, signatures and red seals."""

from __future__ import annotations

import math
import random

import numpy as np
from PIL import Image, ImageDraw

from synth.fonts import HAND_FONT, TITLE_FONTS, FontRef, fit_size, font

Ink = tuple[int, int, int]
PEN_INKS: list[Ink] = [(25, 40, 125), (20, 30, 95), (35, 35, 45), (15, 55, 150)]
SEAL_FOOTERS = ["业务专用章", "", "人事专用章", "财务专用章", ""]  # the line under a seal's star; often none


def hand_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    size_px: int,
    ink: Ink,
    rng: random.Random,
    *,
    max_width: float | None = None,
) -> float:
    """Write `text` with a wobbling baseline and uneven letter sizes; returns the width used.

    Each character is placed on its own so the line drifts (a slight rotation) and jitters the way
    a hand does; drawing per character is also far cheaper than rotating a rendered layer.
    """
    if max_width is not None:
        size_px = fit_size(HAND_FONT, text, size_px, max_width / 1.05)
    x, y = xy
    slope = math.tan(math.radians(rng.uniform(-1.5, 1.5)))
    spacing = rng.uniform(-0.04, 0.12) * size_px
    start = x
    for ch in text:
        size = max(4, round(size_px * rng.uniform(0.9, 1.08)))
        f = font(HAND_FONT, size)
        jitter = rng.uniform(-0.06, 0.06) * size_px
        draw.text((x, y + (x - start) * slope + jitter), ch, font=f, fill=ink)
        x += f.getlength(ch) + spacing
    return x - start


def signature(
    draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], ink: Ink, rng: random.Random, dpi: int
) -> None:
    """A scribbled signature: two or three quick cursive strokes of uneven height inside `box`."""
    x0, y0, x1, y1 = box
    width = max(2, round(dpi / 110))
    height = y1 - y0
    x = x0 + (x1 - x0) * rng.uniform(0.0, 0.15)
    total = (x1 - x0) * rng.uniform(0.45, 0.8)
    strokes = rng.randint(2, 3)
    for _ in range(strokes):
        length = total / strokes * rng.uniform(0.6, 1.2)
        mid = y0 + height * rng.uniform(0.4, 0.6)
        turns = rng.uniform(3.0, 8.0)  # up-and-down strokes along the stroke
        loop = rng.uniform(0.5, 1.8)  # above 1 the pen runs back on itself and draws loops
        phase, drift = rng.uniform(0, math.tau), rng.uniform(-0.25, 0.25)
        wobble = [rng.uniform(0.3, 1.0) for _ in range(4)]
        steps = 80
        points = []
        for i in range(steps + 1):
            t = i / steps
            angle = math.tau * turns * t + phase
            k = min(t * 3, 2.999)
            amp = height * 0.4 * (wobble[int(k)] + (wobble[int(k) + 1] - wobble[int(k)]) * (k - int(k)))
            px = x + length * t + loop * length / (turns * math.tau) * math.sin(angle)
            py = mid + amp * math.cos(angle) + drift * height * t
            points.append((px, min(max(py, y0), y1)))
        draw.line(points, fill=ink, width=width, joint="curve")
        x += length + rng.uniform(1, 4) * dpi / 100


def _star(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    pts = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.38
        angle = -math.pi / 2 + i * math.pi / 5
        pts.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return pts


def seal_mask(text: str, footer: str, diameter_px: int, rng: random.Random) -> Image.Image:
    """An official round seal as an L-mode coverage mask: ring, arced text, star and a footer."""
    size = diameter_px
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    ring = max(3, size // 28)
    draw.ellipse((ring, ring, size - ring, size - ring), outline=255, width=ring)
    c = size / 2
    draw.polygon(_star(c, c, size * 0.16), fill=255)
    ref: FontRef = TITLE_FONTS[0] if rng.random() < 0.5 else TITLE_FONTS[2]
    char_px = max(6, int(size * (0.15 if len(text) <= 12 else 0.12)))
    radius = c - ring * 2.2 - char_px / 2
    span = math.radians(min(250.0, 18.0 * len(text) + 40))
    f = font(ref, char_px)
    for i, ch in enumerate(text):
        angle = -math.pi / 2 - span / 2 + span * (i + 0.5) / max(len(text), 1)
        glyph = Image.new("L", (char_px * 2, char_px * 2), 0)
        ImageDraw.Draw(glyph).text((char_px, char_px), ch, font=f, fill=255, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle + math.pi / 2), resample=Image.Resampling.BILINEAR)
        gx = c + radius * math.cos(angle) - char_px
        gy = c + radius * math.sin(angle) - char_px
        mask.paste(255, (round(gx), round(gy)), glyph)
    if footer:
        fsize = fit_size(ref, footer, int(size * 0.1), size * 0.5)
        draw.text((c, c + size * 0.29), footer, font=font(ref, fsize), fill=255, anchor="mm")
    return mask


def stamp(page: Image.Image, mask: Image.Image, center: tuple[float, float], rng: random.Random) -> None:
    """Press a seal onto `page` (RGB) in place: red ink multiplied over what is printed beneath.

    Multiplying keeps black text black under the seal the way real ink does; the uneven coverage
    imitates a stamp pad that was not evenly inked.
    """
    angle = rng.uniform(-25, 25)
    rotated = mask.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)
    w, h = rotated.size
    x0, y0 = round(center[0] - w / 2), round(center[1] - h / 2)
    px0, py0 = max(x0, 0), max(y0, 0)
    px1, py1 = min(x0 + w, page.width), min(y0 + h, page.height)
    if px1 <= px0 or py1 <= py0:
        return
    cov = np.asarray(rotated, dtype=np.float32)[py0 - y0 : py1 - y0, px0 - x0 : px1 - x0] / 255.0
    seed = rng.getrandbits(32)
    uneven = np.random.default_rng(seed).uniform(
        0.55, 1.0, size=(max(cov.shape[0] // 24, 1), max(cov.shape[1] // 24, 1))
    )
    uneven_img = Image.fromarray((uneven * 255).astype(np.uint8)).resize(
        (cov.shape[1], cov.shape[0]), Image.Resampling.BILINEAR
    )
    cov *= np.asarray(uneven_img, dtype=np.float32) / 255.0 * rng.uniform(0.7, 0.95)
    red = np.array([rng.uniform(0.78, 0.9), rng.uniform(0.08, 0.2), rng.uniform(0.12, 0.25)], dtype=np.float32)
    region = np.asarray(page.crop((px0, py0, px1, py1)), dtype=np.float32)
    out = region * (1.0 - cov[..., None] * (1.0 - red))
    page.paste(Image.fromarray(out.clip(0, 255).astype(np.uint8)), (px0, py0))
