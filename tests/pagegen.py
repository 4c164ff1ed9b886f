"""Small synthetic form pages for preprocess/OCR tests and the deskew bench.

Real CJK fonts, ruled table, red seal: close enough to the archive's forms that orientation,
skew and OCR behave as they do on scans, yet small and fully deterministic.
"""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

NOTO_SANS = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
NOTO_SERIF = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
UKAI = Path("/usr/share/fonts/truetype/arphic/ukai.ttc")
FONTS = (NOTO_SANS, NOTO_SERIF, UKAI)

A4_MM = (210.0, 297.0)

TITLES = (
    "个人注册登记表",
    "参保人员信息变更表",
    "养老保险待遇申请表",
    "失业保险金申领登记表",
    "社会保险关系转移申请表",
)
LABELS = (
    "姓名",
    "性别",
    "出生日期",
    "公民身份号码",
    "参保单位",
    "联系电话",
    "户籍地址",
    "办理日期",
    "经办人",
    "备注",
)
VALUES = (
    "张伟",
    "男",
    "1985年3月12日",
    "110105198503120018",
    "北京市朝阳区人力资源服务中心",
    "13800138000",
    "北京市海淀区中关村大街27号",
    "2019年7月1日",
    "李娜",
    "本人申请，材料齐全",
)
BODY = (
    "本人承诺以上所填内容真实有效，如有虚假愿承担相应法律责任。",
    "请参保人携带本人有效身份证件原件及复印件到经办机构办理。",
    "单位缴费基数按照职工工资总额确定，个人缴费基数按本人上年度月平均工资确定。",
)


def font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def a4_size(dpi: float) -> tuple[int, int]:
    return round(A4_MM[0] / 25.4 * dpi), round(A4_MM[1] / 25.4 * dpi)


def render_form(dpi: float = 100.0, seed: int = 0, font_path: Path | None = None) -> np.ndarray:
    """An A4 form page at `dpi` as a BGR uint8 array: title, ruled label/value table, body text, seal."""
    rng = random.Random(seed)
    fpath = font_path or FONTS[seed % len(FONTS)]
    w, h = a4_size(dpi)
    px = dpi / 25.4  # pixels per mm
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    title = TITLES[seed % len(TITLES)]
    tf = font(fpath, round(7 * px))
    tw = d.textlength(title, font=tf)
    d.text(((w - tw) / 2, 18 * px), title, font=tf, fill="black")
    bf = font(fpath, round(4 * px))
    x0, x1 = round(20 * px), round(w - 20 * px)
    xm = round(60 * px)
    y = round(40 * px)
    row = round(11 * px)
    rows = rng.randint(7, len(LABELS))
    for i in range(rows):
        d.rectangle((x0, y, x1, y + row), outline="black", width=max(1, round(0.4 * px)))
        d.line((xm, y, xm, y + row), fill="black", width=max(1, round(0.4 * px)))
        d.text((x0 + 2 * px, y + 3 * px), LABELS[i], font=bf, fill="black")
        d.text((xm + 3 * px, y + 3 * px), VALUES[i], font=bf, fill=(20, 20, 20))
        y += row
    y += round(10 * px)
    for _ in range(rng.randint(4, 8)):
        d.text((x0, y), rng.choice(BODY), font=bf, fill="black")
        y += round(8 * px)
    # red seal over the lower right of the body: it must not disturb orientation or skew
    cx, cy, r = round(w * 0.72), round(y - 10 * px), round(18 * px)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(220, 30, 30), width=max(2, round(1 * px)))
    sf = font(fpath, round(4 * px))
    d.text((cx - 8 * px, cy - 2 * px), "专用章", font=sf, fill=(220, 30, 30))
    arr = np.asarray(img)[:, :, ::-1].copy()
    return arr


def render_line(text: str, height_px: int = 64, font_path: Path = NOTO_SANS, pad: int = 24) -> np.ndarray:
    """One line of text on white, BGR."""
    f = font(font_path, height_px)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    left, top, right, bottom = (round(v) for v in probe.textbbox((0, 0), text, font=f))
    img = Image.new("RGB", (right - left + 2 * pad, bottom - top + 2 * pad), "white")
    ImageDraw.Draw(img).text((pad - left, pad - top), text, font=f, fill="black")
    return np.asarray(img)[:, :, ::-1].copy()


def rotate_quarter(img: np.ndarray, clockwise_degrees: int) -> np.ndarray:
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return img.copy() if clockwise_degrees % 360 == 0 else cv2.rotate(img, codes[clockwise_degrees % 360])


def skew(img: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate by `degrees` counter-clockwise (OpenCV's sign), white fill, same size, like a crooked feed."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    border = (255, 255, 255) if img.ndim == 3 else 255
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=border)


def scanner_noise(img: np.ndarray, seed: int = 0, specks: int = 300, show_through: bool = False) -> np.ndarray:
    """Grey paper tone, salt specks, a dark scanner edge and optionally faint mirrored show-through."""
    rng = np.random.default_rng(seed)
    out = img.astype(np.int16)
    tone = rng.integers(0, 12, size=out.shape[:2], dtype=np.int16)
    out -= tone[..., None] if out.ndim == 3 else tone
    h, w = out.shape[:2]
    if show_through:
        ghost = np.ascontiguousarray(render_form(dpi=w / (A4_MM[0] / 25.4), seed=seed + 7)[:, ::-1])
        ghost = cv2.resize(ghost, (w, h))
        out = np.minimum(out, 255 - (255 - ghost.astype(np.int16)) // 8)
    ys = rng.integers(0, h, specks)
    xs = rng.integers(0, w, specks)
    out[ys, xs] = 40
    out[:, : max(2, w // 150)] = 30  # scanner bed shadow along one edge
    return np.clip(out, 0, 255).astype(np.uint8)
