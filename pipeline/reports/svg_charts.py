"""Small charts as inline SVG: bars, a histogram and a line over time, labelled in Chinese.

SVG rather than a plotting library: the browser that shows the report (or prints it to PDF) sets the
Chinese labels in its own CJK fonts, the report stays one self-contained file, and nothing needs a
font cache or a display.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

_FONT = "'Noto Sans CJK SC','WenQuanYi Zen Hei','AR PL UMing CN',sans-serif"
_BAR = "#3b6ea5"
_ACCENT = "#c0392b"


def _frame(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'font-family="{_FONT}" font-size="12">' + "".join(body) + "</svg>"
    )


def bar_chart(items: Sequence[tuple[str, float]], title: str, unit: str = "", width: int = 640) -> str:
    """Horizontal bars, one per (label, value), longest label space on the left."""
    row, left, right = 22, 330, 60
    height = 30 + row * max(1, len(items))
    top = max((v for _l, v in items), default=0) or 1
    body = [f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>']
    for i, (label, value) in enumerate(items):
        y = 28 + i * row
        w = (width - left - right) * value / top
        shown_label = label if len(label) <= 26 else label[:25] + "…"
        body.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{escape(shown_label)}</text>')
        body.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{row - 6}" fill="{_BAR}"/>')
        shown = f"{value:g}{unit}"
        body.append(f'<text x="{left + w + 4:.1f}" y="{y + 13}">{escape(shown)}</text>')
    return _frame(width, height, body, title)


def histogram(values: Sequence[float], title: str, bins: int = 20, lo: float = 0.0, hi: float = 1.0) -> str:
    """Counts of `values` in equal bins over [lo, hi]; the last bin includes hi."""
    width, height, pad = 640, 220, 36
    counts = [0] * bins
    for v in values:
        k = min(bins - 1, max(0, int((v - lo) / (hi - lo) * bins)))
        counts[k] += 1
    top = max(counts) or 1
    bw = (width - 2 * pad) / bins
    body = [f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}（{len(values)}）</text>']
    base = height - pad
    for k, c in enumerate(counts):
        h = (base - 30) * c / top
        body.append(
            f'<rect x="{pad + k * bw:.1f}" y="{base - h:.1f}" width="{bw - 1:.1f}" height="{h:.1f}" fill="{_BAR}"/>'
        )
    for k in range(0, bins + 1, max(1, bins // 5)):
        x = pad + k * bw
        body.append(f'<text x="{x:.1f}" y="{base + 16}" text-anchor="middle">{lo + (hi - lo) * k / bins:.2f}</text>')
    body.append(f'<text x="{pad}" y="{base - (base - 30) - 4}">{top}</text>')
    body.append(f'<line x1="{pad}" y1="{base}" x2="{width - pad}" y2="{base}" stroke="#333"/>')
    return _frame(width, height, body, title)


def line_chart(points: Sequence[tuple[str, float]], title: str, unit: str = "") -> str:
    """Values over labelled steps (e.g. minutes of a run), with the mean as a dashed line."""
    width, height, pad = 640, 220, 40
    base = height - pad
    top = max((v for _l, v in points), default=0) or 1
    n = max(1, len(points) - 1)
    xs = [pad + (width - 2 * pad) * i / n for i in range(len(points))]
    ys = [base - (base - 30) * v / top for _l, v in points]
    body = [f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>']
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
        body.append(f'<polyline points="{path}" fill="none" stroke="{_BAR}" stroke-width="2"/>')
        mean = sum(v for _l, v in points) / len(points)
        my = base - (base - 30) * mean / top
        body.append(
            f'<line x1="{pad}" y1="{my:.1f}" x2="{width - pad}" y2="{my:.1f}" stroke="{_ACCENT}" '
            'stroke-dasharray="4 3"/>'
        )
        body.append(
            f'<text x="{width - pad}" y="{my - 4:.1f}" text-anchor="end" fill="{_ACCENT}">'
            f"平均 {mean:.1f}{escape(unit)}</text>"
        )
        step = max(1, len(points) // 6)
        for i in range(0, len(points), step):
            body.append(f'<text x="{xs[i]:.1f}" y="{base + 16}" text-anchor="middle">{escape(points[i][0])}</text>')
    body.append(f'<text x="{pad - 4}" y="34" text-anchor="end">{top:g}</text>')
    body.append(f'<line x1="{pad}" y1="{base}" x2="{width - pad}" y2="{base}" stroke="#333"/>')
    return _frame(width, height, body, title)
