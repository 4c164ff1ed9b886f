"""Hand-written text as HTML: every character its own box, turned, shifted and sized a little.

A written value is not a line of type: characters lean, wander off the baseline and differ in size,
and the pen presses harder on some. The offsets are drawn from the document's random stream, so a
seed always writes the same way.
"""

from __future__ import annotations

import html
import random

from synth.html.style import Hand


def esc(text: str) -> str:
    return html.escape(text, quote=True)


_MM_PER_PT = 25.4 / 72
WRAP_ROOM_MM = 90.0  # a value may run onto a second line only in a cell at least this wide


def width_mm(text: str, size_pt: float) -> float:
    """About how wide `text` is written: full-width characters one em, the rest a little over half."""
    return sum(1.0 if ord(c) > 0x2E80 else 0.58 for c in text) * size_pt * _MM_PER_PT


def written(
    text: str, hand: Hand, rng: random.Random, *, scale: float = 1.0, cls: str = "hw", room_mm: float | None = None
) -> str:
    """`text` in `hand`; the characters stay in reading order so the PDF text layer reads it back.

    Given the room a cell leaves, a value that would not fit is written smaller, as people squeeze
    their writing, instead of breaking inside a number."""
    wrap = room_mm is not None and room_mm >= WRAP_ROOM_MM
    if room_mm is not None and not wrap:
        need = width_mm(text, hand.size_pt * scale) * 1.08
        if need > room_mm:
            scale *= max(0.6, room_mm / need)  # nobody writes smaller than this
    style = (
        f"font-family:{hand.font};font-size:{hand.size_pt * scale:.1f}pt;color:{hand.ink};font-weight:{hand.weight}"
        + ("" if wrap else ";white-space:nowrap")
    )
    if hand.typed:
        return f'<span class="{cls} typed" style="{style}">{esc(text)}</span>'
    parts = []
    for ch in text:
        if ch == " ":
            parts.append(" ")
            continue
        j = hand.jitter
        turn = rng.gauss(0, 2.2 * j)
        dy = rng.gauss(0, 0.35 * j)
        sx = 1 + rng.gauss(0, 0.05 * j)
        gap = rng.gauss(0, 0.25 * j)
        parts.append(
            f'<i style="transform:translateY({dy:.2f}mm) rotate({turn:.1f}deg) scaleX({sx:.2f});'
            f'margin-right:{gap:.2f}mm">{esc(ch)}</i>'
        )
    lean = f"transform:skewX({hand.slant_deg:.1f}deg);"
    return f'<span class="{cls}" style="{style};{lean}">{"".join(parts)}</span>'


def signature(name: str, hand: Hand, rng: random.Random) -> str:
    """A signature: the name written fast, larger and more slanted than the values."""
    fast = Hand(hand.font, hand.size_pt * 1.25, hand.ink, hand.slant_deg - 6, min(1.0, hand.jitter + 0.4), 700)
    return written(name, fast, rng, cls="sig")
