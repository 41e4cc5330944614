"""Small hand-written SVG drawings for the dashboard: line charts and the network.

Matplotlib takes a few hundred milliseconds a frame; these take about a millisecond,
which keeps a dashboard step well under half a second. Output is plain SVG text with
no scripts or external references.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#d62728")


def _nice(lo: float, hi: float) -> tuple[float, float]:
    if not np.isfinite(lo) or not np.isfinite(hi):
        return 0.0, 1.0
    if hi - lo < 1e-12:
        pad = abs(hi) * 0.1 or 1.0
        return lo - pad, hi + pad
    return lo, hi


def line_chart(
    title: str,
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    *,
    width: int = 360,
    height: int = 220,
    ylim: tuple[float, float] | None = None,
) -> str:
    """A line chart with a title, y-axis extremes and a legend, as SVG text."""
    left, right, top, bottom = 46, 10, 26, 24
    w, h = width - left - right, height - top - bottom
    xs_all = [x for xs, _ in series.values() for x in xs]
    ys_all = [y for _, ys in series.values() for y in ys]
    x0, x1 = _nice(min(xs_all, default=0.0), max(xs_all, default=1.0))
    y0, y1 = ylim or _nice(min(ys_all, default=0.0), max(ys_all, default=1.0))

    def px(x: float, y: float) -> str:
        return f"{left + (x - x0) / (x1 - x0) * w:.1f},{top + h - (y - y0) / (y1 - y0) * h:.1f}"

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'class="chart" role="img" aria-label="{escape(title)}">',
             f'<text x="{width / 2}" y="15" text-anchor="middle" font-size="12" '
             f'font-family="sans-serif">{escape(title)}</text>',
             f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#999"/>',
             f'<text x="{left - 4}" y="{top + 9}" text-anchor="end" font-size="9" '
             f'font-family="sans-serif">{y1:.3g}</text>',
             f'<text x="{left - 4}" y="{top + h}" text-anchor="end" font-size="9" '
             f'font-family="sans-serif">{y0:.3g}</text>',
             f'<text x="{left + w}" y="{height - 8}" text-anchor="end" font-size="9" '
             f'font-family="sans-serif">step {x1:.0f}</text>']
    for k, (name, (xs, ys)) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        if len(xs):
            points = " ".join(px(x, y) for x, y in zip(xs, ys, strict=True))
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                         f'points="{points}"/>')
        if len(series) > 1:
            parts.append(f'<text x="{left + 6}" y="{top + 12 + 12 * k}" font-size="10" '
                         f'fill="{colour}" font-family="sans-serif">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def network(
    names: Sequence[str],
    colours: Sequence[str],
    sizes: Sequence[float],
    active: Sequence[bool],
    ties: Sequence[tuple[int, int, float]],
    title: str,
    size: int = 440,
) -> str:
    """Nodes on a circle (faded when inactive) and ties whose width and opacity is trust."""
    k = max(len(names), 1)
    c, r = size / 2, size / 2 - 60
    angle = 2 * np.pi * np.arange(len(names)) / k
    xy = np.column_stack([c + r * np.cos(angle), c + 10 + r * np.sin(angle)])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size + 20}" '
             f'class="network" role="img" aria-label="{escape(title)}">',
             f'<text x="{c}" y="16" text-anchor="middle" font-size="13" '
             f'font-family="sans-serif">{escape(title)}</text>']
    for i, j, trust in ties:
        (xa, ya), (xb, yb) = xy[i], xy[j]
        parts.append(f'<line x1="{xa:.1f}" y1="{ya:.1f}" x2="{xb:.1f}" y2="{yb:.1f}" '
                     f'stroke="#333" stroke-opacity="{trust ** 2:.2f}" '
                     f'stroke-width="{0.5 + 3 * trust:.1f}"/>')
    for (x, y), name, colour, s, on in zip(xy, names, colours, sizes, active, strict=True):
        opacity = 1.0 if on else 0.15
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{s:.1f}" fill="{colour}" '
                     f'fill-opacity="{opacity}" stroke="#000" stroke-opacity="{opacity}"/>')
        parts.append(f'<text x="{x:.1f}" y="{y + s + 11:.1f}" text-anchor="middle" '
                     f'font-size="9" font-family="sans-serif" fill-opacity="{max(opacity, 0.4)}">'
                     f'{escape(name[:24])}</text>')
    parts.append("</svg>")
    return "".join(parts)
