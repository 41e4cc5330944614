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


def ticks(lo: float, hi: float, most: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi]."""
    span = hi - lo
    if not np.isfinite(span) or span <= 0:
        return [lo]
    raw = span / max(most, 1)
    power = 10 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = np.ceil(lo / step - 1e-9) * step
    return [float(round(v, 10)) + 0.0 for v in np.arange(first, hi + step * 1e-9, step)]


def _label(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def line_chart(
    title: str,
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    *,
    width: int = 360,
    height: int = 220,
    ylim: tuple[float, float] | None = None,
) -> str:
    """A line chart with a title, ticked axes and a legend, as SVG text."""
    left, right, top, bottom = 44, 10, 24, 30
    w, h = width - left - right, height - top - bottom
    xs_all = [x for xs, _ in series.values() for x in xs]
    ys_all = [y for _, ys in series.values() for y in ys]
    x0, x1 = _nice(min(xs_all, default=0.0), max(xs_all, default=1.0))
    y0, y1 = ylim or _nice(min(ys_all, default=0.0), max(ys_all, default=1.0))

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * w

    def sy(y: float) -> float:
        return top + h - (y - y0) / (y1 - y0) * h

    font = 'font-family="sans-serif" font-size="11"'
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'class="chart" role="img" aria-label="{escape(title)}">',
             f'<text x="{width / 2}" y="15" text-anchor="middle" font-size="12" '
             f'font-weight="bold" font-family="sans-serif">{escape(title)}</text>']
    for y in ticks(y0, y1, 5):
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{left - 4}" y="{sy(y) + 4:.1f}" text-anchor="end" {font}>'
                     f'{_label(y)}</text>')
    for x in ticks(x0, x1, 5):
        parts.append(f'<line x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="{top + h}" '
                     f'y2="{top + h + 4}" stroke="#666"/>')
        parts.append(f'<text x="{sx(x):.1f}" y="{top + h + 15}" text-anchor="middle" {font}>'
                     f'{_label(x)}</text>')
    parts.append(f'<text x="{left + w}" y="{height - 2}" text-anchor="end" {font} '
                 'fill="#555">quarter</text>')
    parts.append(f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" '
                 'stroke="#999"/>')
    for k, (name, (xs, ys)) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        if len(xs):
            points = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(xs, ys, strict=True))
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                         f'points="{points}"/>')
        if len(series) > 1:
            parts.append(f'<text x="{left + 5}" y="{top + 13 + 13 * k}" {font} '
                         f'fill="{colour}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def network(
    names: Sequence[str],
    colours: Sequence[str],
    sizes: Sequence[float],
    active: Sequence[bool],
    ties: Sequence[tuple[int, int, float]],
    title: str,
    size: int = 420,
) -> str:
    """Nodes on a circle (faded when inactive) and ties whose width and opacity is trust.

    Names sit outside the circle, anchored away from its centre and wrapped onto three
    lines so none runs off the drawing; the whole name is in each node's tooltip.
    """
    k = max(len(names), 1)
    width = size + 40
    c, r = width / 2, size / 2 - 95
    angle = -np.pi / 2 + 2 * np.pi * np.arange(len(names)) / k
    cy = size / 2 + 10
    xy = np.column_stack([c + r * np.cos(angle), cy + r * np.sin(angle)])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{size + 20}" '
             f'class="network" role="img" aria-label="{escape(title)}">',
             f'<text x="{c}" y="16" text-anchor="middle" font-size="13" font-weight="bold" '
             f'font-family="sans-serif">{escape(title)}</text>']
    for i, j, trust in ties:
        (xa, ya), (xb, yb) = xy[i], xy[j]
        parts.append(f'<line x1="{xa:.1f}" y1="{ya:.1f}" x2="{xb:.1f}" y2="{yb:.1f}" '
                     f'stroke="#333" stroke-opacity="{trust ** 2:.2f}" '
                     f'stroke-width="{0.5 + 3 * trust:.1f}"/>')
    for (x, y), a, name, colour, s, on in zip(xy, angle, names, colours, sizes, active,
                                              strict=True):
        opacity = 1.0 if on else 0.15
        dx, dy = np.cos(a), np.sin(a)
        anchor = "middle" if abs(dx) < 0.3 else ("start" if dx > 0 else "end")
        lines = wrap(name)
        tx = x + (s + 4) * dx
        ty = y + (s + 4) * dy + 4 + (6 if dy > 0.3 else -6 - 12 * (len(lines) - 1)
                                      if dy < -0.3 else -6 * (len(lines) - 1))
        spans = "".join(f'<tspan x="{tx:.1f}" dy="{0 if n == 0 else 12}">{escape(t)}</tspan>'
                        for n, t in enumerate(lines))
        parts.append(f'<g><title>{escape(name)}</title>'
                     f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{s:.1f}" fill="{colour}" '
                     f'fill-opacity="{opacity}" stroke="#000" stroke-opacity="{opacity}"/>'
                     f'<text x="{tx:.1f}" y="{ty:.1f}" text-anchor="{anchor}" font-size="11" '
                     f'font-family="sans-serif" fill-opacity="{max(opacity, 0.4)}">'
                     f'{spans}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def wrap(name: str, width: int = 13, most: int = 3) -> list[str]:
    """Split a name into at most ``most`` lines of about ``width`` characters.

    Breaks fall after spaces or underscores; what does not fit ends in an ellipsis.
    """
    words = name.replace("_", "_\0").replace(" ", " \0").split("\0")
    lines = [""]
    for word in words:
        if lines[-1] and len(lines[-1]) + len(word) > width:
            lines.append("")
        lines[-1] += word
    lines = [line.strip() for line in lines]
    lines = [line if len(line) <= width + 2 else line[:width] + "…" for line in lines]
    if len(lines) > most:
        lines = [*lines[: most - 1], lines[most - 1][:width] + "…"]
    return lines
