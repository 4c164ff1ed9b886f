"""Pages that travel with a form: ID-card copies, letters and certificates, vendor separator sheets."""

from __future__ import annotations

import base64
import io
import random
from datetime import date

import zxingcpp

from schemas.registry import get_registry
from synth.html.hand import esc, signature, written
from synth.html.ids import IssuedId
from synth.html.people import place
from synth.html.sheet import seal
from synth.html.style import Hand, SheetStyle
from synth.values import Case, format_date

_COPY_NOTES = ("复印件与原件相符", "此复印件与原件相符", "与原件相符", "复印件与原件一致")
_CARD_CSS = (
    "position:absolute;width:85.6mm;height:54mm;border-radius:3.2mm;border:0.35mm solid #555;"
    "background:linear-gradient(135deg,#e9e9e9,#d2d2d2 45%,#e4e4e4);overflow:hidden;"
    "font-family:'Noto Sans CJK SC',sans-serif;color:#222"
)


def _card_front(case: Case, issued: IssuedId) -> str:
    p = case.person
    born = p.birth_date
    province, city, county = place(issued)
    address = p.address if p.address.startswith(province) else f"{province}{city}{county}"
    nation = p.ethnicity.removesuffix("族")
    lab = "color:#556;font-size:2.4mm"
    return (
        f'<div style="position:absolute;left:5mm;top:5mm;font-size:3.2mm;line-height:1.7">'
        f'<div><span style="{lab}">姓名</span>&nbsp;&nbsp;{esc(p.name)}</div>'
        f'<div><span style="{lab}">性别</span>&nbsp;&nbsp;{p.sex}&nbsp;&nbsp;&nbsp;&nbsp;'
        f'<span style="{lab}">民族</span>&nbsp;&nbsp;{esc(nation)}</div>'
        f'<div><span style="{lab}">出生</span>&nbsp;&nbsp;{born.year}&nbsp;年&nbsp;{born.month}&nbsp;月&nbsp;'
        f"{born.day}&nbsp;日</div>"
        f'<div style="display:flex"><span style="{lab};flex:none">住址</span>&nbsp;&nbsp;'
        f'<span style="width:44mm;line-height:1.35">{esc(address)}</span></div></div>'
        f'<div style="position:absolute;right:4mm;top:6mm;width:25mm;height:31mm;background:'
        f"radial-gradient(circle at 50% 36%,#8c8c8c 0 5.6mm,transparent 5.8mm),"
        f'radial-gradient(ellipse 12mm 8mm at 50% 100%,#7e7e7e 0 99%,transparent 100%),#d4d4d4"></div>'
        f'<div style="position:absolute;left:5mm;bottom:4.5mm;font-size:2.6mm;color:#556">公民身份号码</div>'
        f"<div style=\"position:absolute;left:24mm;bottom:4mm;font-family:'DejaVu Sans Mono',monospace;"
        f'font-size:3.9mm;letter-spacing:0.45mm">{issued.number}</div>'
    )


def _card_back(issued: IssuedId, rng: random.Random) -> str:
    start = date(rng.randint(2004, 2019), rng.randint(1, 12), rng.randint(1, 28))
    years = rng.choice((10, 20, 20))
    until = f"{start.year + years}.{start.month:02d}.{start.day:02d}" if rng.random() < 0.85 else "长期"
    _, city, county = place(issued)
    office = f"{county or city or issued.province}公安局"
    return (
        '<div style="position:absolute;left:6mm;top:5mm;width:15mm;height:15mm;border-radius:50%;'
        'border:0.6mm solid #777;background:#c8c8c8"></div>'
        '<div style="position:absolute;left:27mm;top:7mm;font-size:4.2mm;letter-spacing:1.2mm">中华人民共和国</div>'
        '<div style="position:absolute;left:20mm;top:17mm;font-size:7mm;font-weight:700;letter-spacing:1.6mm">'
        "居民身份证</div>"
        f'<div style="position:absolute;left:14mm;bottom:12mm;font-size:3mm"><span style="color:#556">签发机关</span>'
        f"&nbsp;&nbsp;{esc(office)}</div>"
        f'<div style="position:absolute;left:14mm;bottom:5mm;font-size:3mm"><span style="color:#556">有效期限</span>'
        f"&nbsp;&nbsp;{start.year}.{start.month:02d}.{start.day:02d}-{until}</div>"
    )


def id_copy_page(case: Case, issued: IssuedId, style: SheetStyle, rng: random.Random) -> str:
    """A photocopy of the card (front, often the back too) with the holder's handwritten attestation."""
    both = rng.random() < 0.75
    side_by_side = both and rng.random() < 0.3
    left, top = rng.uniform(25, 55), rng.uniform(25, 60)
    cards = []
    for i, inner in enumerate(
        (_card_front(case, issued), _card_back(issued, rng)) if both else (_card_front(case, issued),)
    ):
        x = left + (90 * i if side_by_side else 0) - (20 if side_by_side else 0)
        y = top + (0 if side_by_side else 68 * i)
        tilt = rng.uniform(-3.5, 3.5)
        cards.append(
            f'<div style="{_CARD_CSS};left:{x:.1f}mm;top:{y:.1f}mm;transform:rotate({tilt:.1f}deg)">{inner}</div>'
        )
    signer = style.clerk if style.applicant.typed else style.applicant
    note_top = top + (70 if side_by_side or not both else 140) + rng.uniform(0, 20)
    note_hand = Hand(signer.font, signer.size_pt * 1.2, signer.ink, signer.slant_deg, signer.jitter, 700)
    turn = rng.uniform(-8, 5)
    note = (
        f'<div style="position:absolute;left:{rng.uniform(30, 90):.0f}mm;top:{note_top:.0f}mm;'
        f'transform:rotate({turn:.1f}deg)">'
        f"{written(rng.choice(_COPY_NOTES), note_hand, rng)}<br>"
        f'<span style="margin-left:20mm">{signature(case.person.name, signer, rng)}</span>'
    )
    if rng.random() < 0.5:
        note += f'<br><span style="margin-left:24mm">{written(format_date(case.form_date, "dot"), signer, rng)}</span>'
    note += "</div>"
    caption = ""
    if rng.random() < 0.3:
        words = rng.choice(("居民身份证复印件", "身份证复印件"))
        caption = (
            f'<div style="position:absolute;left:0;right:0;top:12mm;text-align:center;font-size:14pt">{words}</div>'
        )
    return f'<div class="page" style="font-family:{style.label_font}">{caption}{"".join(cards)}{note}</div>'


def letter_page(title: str, case: Case, style: SheetStyle, rng: random.Random) -> str:
    """A certificate or letter: a title, a paragraph about the person, the unit's seal and the date."""
    p = case.person
    body = rng.choice(
        (
            "兹证明{name}同志，性别{sex}，系我单位职工，情况属实，特此证明。",
            "兹有{name}（{sex}）同志，在我单位工作，现因办理社会保险业务需要，出具此证明。",
            "经核实，{name}同志所述情况属实。特此说明。",
        )
    ).format(name=p.name, sex=p.sex)
    when = format_date(case.form_date, rng.choice(("cn", "cn_upper")))
    stamp = seal(case.unit.name, rng, rng.uniform(105, 135), rng.uniform(150, 175))
    return (
        f'<div class="page" style="padding:30mm 25mm;font-family:{style.label_font};font-size:13pt;line-height:2">'
        f'<div style="text-align:center;font-size:20pt;font-family:{style.title_font};font-weight:{style.title_weight};'
        f'margin-bottom:10mm">{esc(title)}</div><div style="text-indent:2em">{esc(body)}</div>'
        f'<div style="text-align:right;margin-top:18mm">{esc(case.unit.name)}</div>'
        f'<div style="text-align:right">{esc(when)}</div>{stamp}</div>'
    )


def _qr_data_uri(payload: str) -> str:
    code = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level="H")
    img = code.to_image(scale=1, add_quiet_zones=False)
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def separator_page(symbol: str, box_label: str, rng: random.Random) -> str:
    """A vendor's separator sheet: a QR code with the separator payload, or Kodak patch T bars."""
    caption = rng.choice(("分隔页", "档案分隔页", "文件分隔页", "分隔页　请勿拆除"))
    spec = get_registry().separator
    if symbol == "qr":
        payload = spec.payload if rng.random() < 0.5 else f"{spec.payload}/{box_label}"
        side = rng.uniform(45, 70)
        left = 105 - side / 2 + rng.uniform(-15, 15)
        mark = (
            f'<img src="{_qr_data_uri(payload)}" style="position:absolute;left:{left:.1f}mm;'
            f'top:{120 + rng.uniform(-20, 20):.1f}mm;width:{side:.1f}mm;height:{side:.1f}mm;image-rendering:pixelated">'
        )
    else:
        bars, x = [], 0.0
        length = rng.uniform(70, 120)
        pattern = next(p for p, name in spec.patch_codes.items() if name == "T")
        for i, b in enumerate(pattern):
            w = spec.patch_wide_mm if b == "W" else spec.patch_narrow_mm
            bars.append(
                f'<div style="position:absolute;left:{x:.2f}mm;top:0;width:{w:.2f}mm;height:{length:.0f}mm;'
                'background:#000"></div>'
            )
            x += w + (spec.patch_narrow_mm if i < len(pattern) - 1 else 0)
        mark = "".join(
            f'<div style="position:absolute;left:{c}mm;top:{148 - length / 2:.0f}mm">{"".join(bars)}</div>'
            for c in (55, 140)
        )
    return (
        f'<div class="page" style="font-family:\'Noto Sans CJK SC\'"><div style="position:absolute;left:0;right:0;'
        f'top:{rng.uniform(25, 40):.0f}mm;text-align:center;font-size:26pt;font-weight:700">{caption}</div>{mark}'
        f'<div style="position:absolute;left:0;right:0;bottom:22mm;text-align:center;font-size:10pt;color:#444">'
        f"{esc(box_label)}</div></div>"
    )
