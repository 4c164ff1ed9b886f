"""The pages behind a form: photocopies of ID cards, typed certificates and blank versos."""

from __future__ import annotations

import random

from PIL import Image, ImageFont, ImageOps

from synth.fonts import PRINT_FONTS, SANS_FONT, TITLE_FONTS, fit_size, font
from synth.marks import PEN_INKS, SEAL_FOOTERS, Ink, hand_text, seal_mask, signature, stamp
from synth.sheet import Sheet
from synth.values import Case, format_date


def render_id_copy(case: Case, rng: random.Random, dpi: int) -> Image.Image:
    """A photocopy of both sides of a resident ID card, as pasted behind registration forms."""
    page = Sheet(dpi)
    draw = page.draw
    p = case.person
    scale = rng.uniform(1.0, 1.4)
    cw, ch = page.px(85.6 * scale), page.px(54 * scale)
    x = (page.img.width - cw) / 2 + page.px(rng.uniform(-15, 15))
    ink: Ink = (40, 40, 40)
    f_lbl = font(SANS_FONT, page.pt(7 * scale))
    f_val = font(PRINT_FONTS[0], page.pt(8.5 * scale))
    for side, y in (("front", page.px(rng.uniform(25, 45))), ("back", page.px(rng.uniform(150, 175)))):
        draw.rounded_rectangle(
            (x, y, x + cw, y + ch),
            radius=page.px(3 * scale),
            fill=(222, 222, 222),
            outline=(90, 90, 90),
            width=max(1, dpi // 150),
        )
        pad = page.px(6 * scale)
        if side == "front":
            lines = [
                ("姓名", p.name),
                ("性别", f"{p.sex}      民族  {p.ethnicity.removesuffix('族')}"),
                ("出生", format_date(p.birth_date, "cn")),
                ("住址", p.address[:11]),
                ("", p.address[11:22]),
            ]
            ly = y + pad
            for lbl, val in lines:
                draw.text((x + pad, ly), lbl, font=f_lbl, fill=(70, 70, 70))
                draw.text((x + pad + page.px(12 * scale), ly - page.px(0.5)), val, font=f_val, fill=ink)
                ly += page.px(7.5 * scale)
            draw.text((x + pad, y + ch - pad - page.px(2)), "公民身份号码", font=f_lbl, fill=(70, 70, 70))
            draw.text(
                (x + pad + page.px(20 * scale), y + ch - pad - page.px(3)),
                p.id_number,
                font=font(SANS_FONT, page.pt(10 * scale)),
                fill=ink,
            )
            photo = (x + cw - page.px(30 * scale), y + pad, x + cw - pad, y + pad + page.px(32 * scale))
            draw.rectangle(photo, fill=(185, 185, 185))
            px0, py0, px1, py1 = photo
            draw.ellipse(
                (
                    px0 + (px1 - px0) * 0.28,
                    py0 + (py1 - py0) * 0.12,
                    px1 - (px1 - px0) * 0.28,
                    py0 + (py1 - py0) * 0.55,
                ),
                fill=(95, 95, 95),
            )
            draw.ellipse(
                (px0 + (px1 - px0) * 0.1, py0 + (py1 - py0) * 0.6, px1 - (px1 - px0) * 0.1, py1 + (py1 - py0) * 0.4),
                fill=(95, 95, 95),
            )
            draw.rectangle((px0, py1, px1, py1 + (py1 - py0) * 0.5), fill=(222, 222, 222))
        else:
            draw.text(
                (x + cw / 2, y + ch * 0.3),
                "中华人民共和国",
                font=font(TITLE_FONTS[0], page.pt(13 * scale)),
                fill=ink,
                anchor="mm",
            )
            draw.text(
                (x + cw / 2, y + ch * 0.5),
                "居民身份证",
                font=font(TITLE_FONTS[0], page.pt(17 * scale)),
                fill=ink,
                anchor="mm",
            )
            issued = case.form_date.replace(year=max(case.form_date.year - rng.randint(0, 8), 2000), day=1)
            expires = issued.replace(year=issued.year + 20)
            draw.text((x + pad, y + ch * 0.7), f"签发机关  {p.province}公安局", font=f_lbl, fill=ink)
            draw.text((x + pad, y + ch * 0.83), f"有效期限  {issued:%Y.%m.%d}-{expires:%Y.%m.%d}", font=f_lbl, fill=ink)
    if rng.random() < 0.5:
        pen = rng.choice(PEN_INKS)
        note_y = page.px(rng.uniform(235, 255))
        used = hand_text(
            draw, (page.px(40), note_y), rng.choice(["此复印件与原件一致", "仅供社保业务使用"]), page.pt(15), pen, rng
        )
        signature(draw, (page.px(45) + used, note_y - page.px(4), page.px(180), note_y + page.px(12)), pen, rng, dpi)
    return page.img


def _wrap(text: str, f: ImageFont.FreeTypeFont, max_w: float) -> list[str]:
    """Greedy line breaking by measured width (digits are narrower than Han characters)."""
    lines, current = [], ""
    for ch in text:
        if current and f.getlength(current + ch) > max_w and ch not in "，。、；：）":
            lines.append(current)
            current = ""
        current += ch
    return [*lines, current] if current else lines


def render_certificate(title: str, case: Case, rng: random.Random, dpi: int) -> Image.Image:
    """A typed certificate or letter (证明, 合同 …) about the same person, signed off by the unit."""
    page = Sheet(dpi)
    draw = page.draw
    p = case.person
    ref = rng.choice(PRINT_FONTS)
    ink: Ink = (30, 30, 30)
    margin = page.px(rng.uniform(25, 32))
    width = page.img.width - 2 * margin
    y: float = page.px(rng.uniform(30, 45))
    tsize = fit_size(TITLE_FONTS[1], title, page.pt(20), width)
    draw.text((page.img.width / 2, y), title, font=font(TITLE_FONTS[1], tsize), fill=ink, anchor="mt")
    y += tsize * 2.5
    since = format_date(case.work_start_date, "cn")
    body = (
        f"兹证明{p.name}，{p.sex}，公民身份号码{p.id_number}，自{since}起在{case.unit.name}工作。"
        f"该同志在我单位工作期间，按规定参加社会保险并足额缴纳社会保险费。"
        f"现因办理社会保险相关业务需要，特此证明。"
    )
    size = page.pt(rng.uniform(12, 14))
    f = font(ref, size)
    for i, text in enumerate(_wrap("　　" + body, f, width)):
        draw.text((margin, y + i * size * 1.9), text, font=f, fill=ink)
    y_end = page.px(rng.uniform(200, 225))
    right = margin + width
    draw.text((right, y_end), case.unit.name, font=f, fill=ink, anchor="ra")
    draw.text((right, y_end + size * 2), format_date(case.form_date, "cn"), font=f, fill=ink, anchor="ra")
    if rng.random() < 0.8:
        mask = seal_mask(case.unit.name, rng.choice(SEAL_FOOTERS), page.px(rng.uniform(38, 42)), rng)
        stamp(page.img, mask, (right - page.px(rng.uniform(15, 30)), y_end + size), rng)
    return page.img


def render_blank(dpi: int, show_through: Image.Image | None, rng: random.Random) -> Image.Image:
    """An empty verso; paper thin enough lets the other side's print show through, mirrored and faint."""
    page = Sheet(dpi)
    if show_through is not None and rng.random() < 0.5:
        ghost = ImageOps.mirror(show_through.convert("L")).resize(page.img.size)
        faint = ghost.point(lambda v: 255 - (255 - v) * 4 // 100)
        return Image.merge("RGB", (faint, faint, faint))
    return page.img
