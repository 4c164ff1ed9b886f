"""The look of one sheet: type faces, title and header styles, how values are filled in.

Font families are Debian font packages (see the Makefile's APT_PACKAGES); each stack names its own
fallbacks, because Chromium picks a face per character and a missing glyph must fall to a face of the
same kind rather than to whatever fontconfig prefers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

# 宋体 / 仿宋 / 黑体 / 楷体 families for printed labels. cwTeX's 仿宋 is a traditional-Chinese face:
# simplified-only glyphs fall back to a 宋 face, which is how such forms look when printed in it.
LABEL_FONTS: dict[str, tuple[str, ...]] = {
    "song": ("'AR PL SungtiL GB'", "'Noto Serif CJK SC'", "'AR PL UMing CN'"),
    "fangsong": ("cwTeXFangSong, 'AR PL SungtiL GB'",),
    "hei": ("'Noto Sans CJK SC'", "'WenQuanYi Zen Hei'", "'WenQuanYi Micro Hei'", "'Droid Sans Fallback'"),
    "kai": ("'AR PL KaitiM GB'", "'AR PL UKai CN'"),
}
TITLE_FONTS: tuple[tuple[str, int], ...] = (
    ("'Noto Serif CJK SC'", 900),  # 小标宋-like
    ("'Noto Sans CJK SC'", 700),  # 黑体
    ("'WenQuanYi Zen Hei'", 400),
    ("'AR PL SungtiL GB'", 700),
    ("'AR PL KaitiM GB'", 400),
    ("'Noto Serif CJK SC'", 700),
)
TYPED_FONTS = ("'AR PL SungtiL GB'", "'Noto Serif CJK SC'", "'Noto Sans CJK SC', sans-serif")

Layout = Literal["grid", "above", "sections", "blanks"]
LAYOUT_SHARES: tuple[tuple[Layout, float], ...] = (("grid", 0.3), ("above", 0.2), ("sections", 0.3), ("blanks", 0.2))


@dataclass(frozen=True)
class Hand:
    """One person's handwriting: a face, a size, an ink, a slant and how unsteady the pen is."""

    font: str
    size_pt: float
    ink: str
    slant_deg: float
    jitter: float  # 0 steady .. 1 shaky
    weight: int
    typed: bool = False  # filled in by a computer: no jitter, no slant


# faces that look written: Japanese handwriting faces carry the digits and the kanji they share with
# Chinese; the Chinese 楷 faces behind them fill in the rest
# (Hand* faces are the handwriting fonts limited to Latin letters and digits in sheet.PAGE_CSS: their CJK
# glyphs are incomplete, and an empty glyph would hide part of a value the ground truth lists)
HAND_FONTS = (
    "HandSeto, 'LXGW WenKai'",
    "'LXGW WenKai'",
    "HandKlee, 'AR PL KaitiM GB'",
    "'AR PL UKai CN'",
    "HandDkg, 'LXGW WenKai'",
    "HandSeto, 'AR PL UKai CN'",
    "'LXGW WenKai Mono', 'LXGW WenKai'",
)
INKS = ("#1b2a7a", "#14205a", "#222228", "#10307f", "#2a2a60", "#0d0d12")


@dataclass(frozen=True)
class SheetStyle:
    layout: Layout
    label_font: str  # a CSS font-family stack
    label_family: str  # song / fangsong / hei / kai
    label_pt: float
    label_mm: float  # width of a label cell; narrow ones make long labels wrap
    pairs: int  # label/value pairs per table row
    rule_px: float
    outer_double: bool
    title_font: str
    title_weight: int
    title_pt: float
    title_spacing_mm: float
    title_rule: Literal["none", "under", "double"]
    authority: bool  # an issuing office's name above the title
    form_code: bool  # a form number in the top right (表号)
    serial: bool  # 编号 / 受理号 line under the title
    note_head: str  # 说明 / 填表说明 / 注 / 备注
    note_font: str
    applicant: Hand
    clerk: Hand
    checkboxes: bool  # choice fields printed as ☐ options with one ticked
    boxed_id: bool  # ID number written one digit per printed box
    split_date: bool  # dates written on blanks before printed 年 月 日
    margin_mm: tuple[float, float]  # top, sides


def draw_hand(rng: random.Random, typed: bool = False) -> Hand:
    if typed:
        return Hand(rng.choice(TYPED_FONTS), rng.uniform(10.5, 12.5), "#111111", 0.0, 0.0, 400, typed=True)
    return Hand(
        font=rng.choice(HAND_FONTS),
        size_pt=rng.uniform(12.0, 16.0),
        ink=rng.choice(INKS),
        slant_deg=rng.uniform(-9.0, 3.0),
        jitter=rng.uniform(0.2, 1.0),
        weight=rng.choice((300, 400, 400, 700)),
    )


def _layout(rng: random.Random) -> Layout:
    roll, acc = rng.random(), 0.0
    for layout, share in LAYOUT_SHARES:
        acc += share
        if roll < acc:
            return layout
    return "grid"


def draw_style(rng: random.Random) -> SheetStyle:
    family = rng.choice(tuple(LABEL_FONTS))
    title_font, title_weight = rng.choice(TITLE_FONTS)
    typed = rng.random() < 0.25
    layout = _layout(rng)
    return SheetStyle(
        layout=layout,
        label_font=rng.choice(LABEL_FONTS[family]),
        label_family=family,
        label_pt=rng.uniform(10.0, 12.0),
        label_mm=rng.choice((13.0, 15.0, 17.0, 20.0, 24.0, 28.0)),
        pairs=rng.choice((1, 2, 2, 2, 3)) if layout != "above" else rng.choice((2, 3, 3, 4)),
        rule_px=rng.uniform(0.7, 1.4),
        outer_double=rng.random() < 0.3,
        title_font=title_font,
        title_weight=title_weight,
        title_pt=rng.uniform(17.0, 24.0),
        title_spacing_mm=rng.choice((0.0, 0.0, 0.5, 1.0, 2.0)),
        title_rule=rng.choice(("none", "none", "under", "double")),
        authority=rng.random() < 0.45,
        form_code=rng.random() < 0.4,
        serial=rng.random() < 0.35,
        note_head=rng.choice(("说明：", "填表说明：", "注：", "备注：", "填表须知")),
        note_font=rng.choice(LABEL_FONTS[rng.choice(tuple(LABEL_FONTS))]),
        applicant=draw_hand(rng, typed),
        clerk=draw_hand(rng),
        checkboxes=rng.random() < 0.2,
        boxed_id=rng.random() < 0.2,
        split_date=rng.random() < 0.35,
        margin_mm=(rng.uniform(14.0, 24.0), rng.uniform(14.0, 22.0)),
    )
