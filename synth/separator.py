"""Vendor separator sheets: the page a scanning vendor puts in front of a document to mark where it starts.

Two kinds are common: a sheet with a QR code whose payload the capture software looks for, and a Kodak
patch code sheet (four parallel bars; patch T is narrow-wide-narrow-wide). Both are drawn at the scan
resolution from the registry's separator data (schemas/registry/separator_sheets.yaml), which the
pipeline's reader checks against too.
"""

from __future__ import annotations

import random
from typing import Literal

import numpy as np
import zxingcpp
from PIL import Image, ImageDraw

from schemas.registry import get_registry
from schemas.registry_models import SeparatorSpec
from synth.fonts import SANS_FONT, TITLE_FONTS, font, pt_to_px

SeparatorSymbol = Literal["qr", "patch_t"]
_A4_MM = (210.0, 297.0)
_CAPTIONS = ["档案分隔页", "文件分隔页", "分隔页 请勿拆除", "SEPARATOR"]


def _px(mm: float, dpi: int) -> int:
    return round(mm * dpi / 25.4)


def _qr_modules(payload: str) -> np.ndarray:
    """The QR symbol as a boolean module matrix (True = dark), without its quiet zone."""
    code = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level="H")
    return np.asarray(code.to_image(scale=1, add_quiet_zones=False)) < 128


def _draw_qr(draw: ImageDraw.ImageDraw, modules: np.ndarray, left: float, top: float, module_px: float) -> None:
    for r, c in zip(*np.nonzero(modules), strict=True):
        x, y = left + c * module_px, top + r * module_px
        draw.rectangle((x, y, x + module_px - 1, y + module_px - 1), fill=(0, 0, 0))


def _draw_patch(
    draw: ImageDraw.ImageDraw, spec: SeparatorSpec, left: float, top: float, length: float, dpi: int
) -> None:
    """Patch T bars running down the page, narrow spaces between them."""
    x = left
    bars = spec.pattern("T")
    for i, bar in enumerate(bars):
        width = _px(spec.patch_wide_mm if bar == "W" else spec.patch_narrow_mm, dpi)
        draw.rectangle((x, top, x + width - 1, top + length), fill=(0, 0, 0))
        x += width + (_px(spec.patch_narrow_mm, dpi) if i < len(bars) - 1 else 0)


def render_separator(symbol: SeparatorSymbol, dpi: int, rng: random.Random, box_label: str) -> Image.Image:
    """An A4 separator sheet, clean; the scanner's effects are added by `degrade.scan` like any page."""
    spec = get_registry().separator
    img = Image.new("RGB", (_px(_A4_MM[0], dpi), _px(_A4_MM[1], dpi)), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    w, h = img.size
    caption = rng.choice(_CAPTIONS)
    title = font(TITLE_FONTS[0], pt_to_px(rng.uniform(24, 32), dpi))
    draw.text((w / 2, _px(rng.uniform(25, 40), dpi)), caption, font=title, fill=(0, 0, 0), anchor="mt")
    if symbol == "qr":
        modules = _qr_modules(spec.payload if rng.random() < 0.5 else f"{spec.payload}/{box_label}")
        module_px = _px(rng.uniform(2.0, 3.0), dpi)
        side = modules.shape[0] * module_px
        left = (w - side) / 2 + _px(rng.uniform(-20, 20), dpi)
        top = (h - side) / 2 + _px(rng.uniform(-30, 30), dpi)
        _draw_qr(draw, modules, left, top, module_px)
    else:
        # patch sheets repeat the code so any scanner's patch reader position finds one
        length = _px(rng.uniform(63.5, 120), dpi)
        top = (h - length) / 2
        for centre in (0.3, 0.7):
            _draw_patch(draw, spec, w * centre - _px(8, dpi), top, length, dpi)
    small = font(SANS_FONT, pt_to_px(10, dpi))
    draw.text((w / 2, h - _px(25, dpi)), box_label, font=small, fill=(60, 60, 60), anchor="mt")
    return img
