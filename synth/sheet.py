"""A clean A4 sheet drawn at its scan resolution, and values written by hand into its cells.

Pages are drawn straight at their scan resolution (no resampling later), in RGB because seals are red.
Scanner effects are added afterwards by `synth.degrade`.
"""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

from synth.fonts import HAND_FONT, FontRef, fit_size, font, pt_to_px
from synth.marks import Ink, hand_text
from synth.values import FieldValue

A4_MM = (210.0, 297.0)


class Sheet:
    """One A4 page being drawn: its image, the drawing on it, and millimetres and points in pixels at its DPI."""

    def __init__(self, dpi: int) -> None:
        self.dpi = dpi
        self.img = Image.new("RGB", (self.px(A4_MM[0]), self.px(A4_MM[1])), (255, 255, 255))
        self.draw = ImageDraw.Draw(self.img)

    def px(self, mm: float) -> int:
        return round(mm * self.dpi / 25.4)

    def pt(self, points: float) -> int:
        return pt_to_px(points, self.dpi)

    def text_fit(
        self,
        xy: tuple[float, float],
        text: str,
        ref: FontRef,
        size_pt: float,
        max_w: float,
        ink: Ink,
        anchor: str = "la",
    ) -> None:
        size = fit_size(ref, text, self.pt(size_pt), max_w)
        self.draw.text(xy, text, font=font(ref, size), fill=ink, anchor=anchor)


def _boxed_id(
    page: Sheet,
    cell: tuple[float, float, float, float],
    digits: str,
    pen: Ink,
    line: Ink,
    rng: random.Random,
    hand_px: int,
) -> None:
    """An ID written one digit per printed box, as many registration forms ask for."""
    x0, y0, x1, y1 = cell
    pad = page.px(1.5)
    box_w = min(page.px(6.5), (x1 - x0 - 2 * pad) / 18)
    box_h = min(y1 - y0 - 2 * pad, box_w * 1.25)
    top = (y0 + y1 - box_h) / 2
    size = min(hand_px, round(box_h * 0.8))
    for i, ch in enumerate(digits):
        bx = x0 + pad + i * box_w
        page.draw.rectangle((bx, top, bx + box_w, top + box_h), outline=line, width=max(1, page.dpi // 200))
        hand_text(page.draw, (bx + box_w * rng.uniform(0.15, 0.3), top + box_h * 0.05), ch, size, pen, rng)


def write_value(
    page: Sheet,
    cell: tuple[float, float, float, float],
    value: FieldValue,
    pen: Ink,
    line: Ink,
    rng: random.Random,
    hand_px: int,
) -> tuple[float, float]:
    """Write a value into its cell; returns where its text ends (for placing a seal over it)."""
    x0, y0, x1, y1 = cell
    if value.boxed:
        _boxed_id(page, cell, value.printed, pen, line, rng, hand_px)
        return x1, (y0 + y1) / 2
    pad = page.px(rng.uniform(1.5, 4.0))
    size = fit_size(HAND_FONT, value.printed, hand_px, x1 - x0 - 2 * pad)
    top = (y0 + y1) / 2 - size * 0.6 + rng.uniform(-0.1, 0.1) * size
    text_w = font(HAND_FONT, size).getlength(value.printed)
    left = x0 + pad if rng.random() < 0.6 else max(x0 + pad, (x0 + x1 - text_w) / 2)
    used = hand_text(page.draw, (left, top), value.printed, size, pen, rng, max_width=x1 - left - pad / 2)
    return left + used, (y0 + y1) / 2
