"""What every sheet of the family shares: the page box, table rules, the fitting script, red seals."""

from __future__ import annotations

import math
import random

from synth.html.hand import esc

PAGE_CSS = """
@font-face { font-family: HandSeto; src: local('SetoFont'); unicode-range: U+0020-007E; }
@font-face { font-family: HandKlee; src: local('KleeOne-Regular'); unicode-range: U+0020-007E; }
@font-face { font-family: HandDkg; src: local('DkgHandwriting'); unicode-range: U+0020-007E; }
@page { size: 210mm 297mm; margin: 0 }
html, body { margin: 0; padding: 0; background: #fff }
.page { width: 210mm; height: 297mm; position: relative; overflow: hidden; box-sizing: border-box;
        break-after: page; color: #000 }
.page:last-child { break-after: auto }
.fit { transform-origin: top left }
table.f { border-collapse: collapse; width: 100%; table-layout: fixed }
table.f td { border: var(--rule) solid #000; padding: 0.7mm var(--pad, 1.2mm); vertical-align: middle;
             overflow-wrap: anywhere; line-height: 1.22 }
table.f.double { outline: calc(var(--rule) * 1.6) solid #000; outline-offset: 0.8mm }
td.lab { text-align: var(--lab-align); text-align-last: var(--lab-last) }
td.sec { text-align: center; padding: 0 }
.vert { writing-mode: vertical-rl; text-orientation: upright; letter-spacing: 2.2mm; margin: auto;
        font-weight: 700 }
.cap { font-size: 0.86em; display: block; margin-bottom: 0.8mm }
.hw { display: inline-block; line-height: 1.1 }
.hw i, .sig i { font-style: normal; display: inline-block }
.sig { display: inline-block; line-height: 1 }
.blank { display: inline-block; border-bottom: var(--rule) solid #000; min-height: 6mm; vertical-align: bottom;
         padding: 0 1mm; text-align: center }
.line { display: flex; flex-wrap: wrap; align-items: flex-end; margin: var(--gap, 2.6mm) 0; gap: 2.6mm 4mm }
.line > span.item { display: flex; align-items: flex-end; white-space: nowrap }
.boxes { display: inline-flex; vertical-align: middle }
.boxes b { font-weight: inherit; display: inline-flex; width: 4.6mm; height: 6.4mm; border: var(--rule) solid #000;
           margin-left: calc(var(--rule) * -1); align-items: center; justify-content: center }
.notes { margin-top: 3mm; font-size: 9.5pt; line-height: 1.45 }
.seal { position: absolute; border-radius: 50%; border: 0.9mm solid #d8262c; color: #d8262c; opacity: 0.82;
        mix-blend-mode: multiply; font-family: 'Noto Serif CJK SC', serif; font-weight: 700 }
.seal span { position: absolute; left: 50%; top: 0; transform-origin: 0 100% }
.seal .star { position: absolute; left: 50%; top: 50%; transform: translate(-50%, -50%); font-size: 9mm }
"""

# Shrinks a sheet whose content is taller than the paper, as a form designer would set a smaller size,
# so nothing the ground truth lists is cut off by the page edge.
FIT_SCRIPT = """
<script>
for (const page of document.querySelectorAll('.page')) {
  const fit = page.querySelector('.fit');
  if (!fit) continue;
  const room = page.clientHeight - parseFloat(getComputedStyle(page).paddingTop) * 2;
  const need = fit.scrollHeight;
  if (need > room) { const k = room / need; fit.style.transform = 'scale(' + k + ')';
                     fit.style.width = (100 / k) + '%'; }
}
</script>
"""


def document(pages: list[str]) -> str:
    body = "\n".join(pages)
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>{PAGE_CSS}</style></head>'
        f"<body>{body}{FIT_SCRIPT}</body></html>"
    )


def seal(text: str, rng: random.Random, left_mm: float, top_mm: float) -> str:
    """A round red seal: the unit's name around the rim, a star in the middle, pressed a little askew."""
    size = rng.uniform(36.0, 42.0)
    chars = list(text[:24])
    sweep = min(250.0, 12.0 * len(chars))
    font_mm = min(5.2, size * math.pi * (sweep / 360) / max(len(chars), 1) * 0.9)
    radius = size / 2 - 1.2
    spans = []
    for i, ch in enumerate(chars):
        angle = -sweep / 2 + sweep * (i + 0.5) / len(chars)
        spans.append(
            f'<span style="font-size:{font_mm:.1f}mm;height:{radius:.1f}mm;margin-left:-{font_mm / 2:.1f}mm;'
            f'top:1.2mm;transform:rotate({angle:.1f}deg)">{esc(ch)}</span>'
        )
    turn = rng.uniform(-25, 25)
    return (
        f'<div class="seal" style="left:{left_mm:.1f}mm;top:{top_mm:.1f}mm;width:{size:.1f}mm;height:{size:.1f}mm;'
        f'transform:rotate({turn:.1f}deg)">{"".join(spans)}<div class="star">★</div></div>'
    )
