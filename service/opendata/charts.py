"""Charts drawn on the server as SVG that screen readers can name: no script, no chart library.

Each chart is an `<svg role="img">` with a `<title>` and a `<desc>` that says what it shows in
words; the page puts a table of the same figures beside it. Series differ by line pattern and
marker shape as well as by colour, and every bar carries its value as text, so nothing is read
from colour alone. Colours are dark enough for 3:1 against white (WCAG 1.4.11).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

INK = "#1b1f24"
MUTED = "#4a5460"
GRID = "#d0d7de"
# Colour, dash pattern and marker of each series, in order.
STYLES = (
    ("#0b5394", "", "circle"),
    ("#8a3b00", "8 4", "square"),
    ("#1a6b32", "2 3", "triangle"),
    ("#6a1b9a", "10 3 2 3", "diamond"),
)
BAR = "#0b5394"
# A presentation attribute, not a `style`: the Content-Security-Policy refuses inline styles.
FONT = 'font-family="system-ui,sans-serif"'


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    # The value as the reader reads it ("12", "€1,200.00").
    shown: str


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int]


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    size: int = 13,
    fill: str = INK,
    extra: str = "",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" '
        f'text-anchor="{anchor}" {FONT}{extra}>{escape(text)}</text>'
    )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(chart_id: str, *, title: str, desc: str, bars: Sequence[Bar]) -> Markup:
    """Horizontal bars, one per row, each labelled with its name and its value."""
    row, label_w, value_w, width = 32, 170, 90, 480
    height = max(1, len(bars)) * row + 16
    out = _open(chart_id, width, height, title, desc)
    top = max((b.value for b in bars), default=0) or 1
    span = width - label_w - value_w
    for i, b in enumerate(bars):
        y = 8 + i * row
        w = max(0.0, span * b.value / top)
        out.append(_text(label_w - 8, y + 20, _shorten(b.label, 22), anchor="end", size=14))
        out.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 10}" fill="{BAR}"/>'
        )
        out.append(_text(label_w + w + 6, y + 20, b.shown, size=14))
    out.append(f'<line x1="{label_w}" y1="4" x2="{label_w}" y2="{height - 4}" stroke="{INK}"/>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text in it went through escape()


# Tops of the value axis (times a power of ten) and how many gridlines divide each evenly.
TOPS = ((1, 5), (2, 4), (3, 3), (4, 4), (5, 5), (6, 3), (8, 4), (10, 5))


def nice_scale(value: int) -> tuple[int, int]:
    """The smallest round top at or above `value` and the number of even steps up to it."""
    if value <= 0:
        return 1, 1
    power = 10 ** math.floor(math.log10(value))
    for top, steps in TOPS:
        if value <= top * power:
            return top * power, steps
    return 10 * power, 5  # pragma: no cover - the loop always returns


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if shape == "triangle":
        points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} {x - 5:.1f},{y + 4:.1f}"
        return f'<polygon points="{points}" fill="{colour}"/>'
    points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}"
    return f'<polygon points="{points}" fill="{colour}"/>'


def line_chart(
    chart_id: str,
    *,
    title: str,
    desc: str,
    periods: Sequence[str],
    series: Sequence[Series],
    tick: Callable[[int], str],
) -> Markup:
    """Lines over periods (months), each with its own colour, dash pattern and marker, a
    legend naming them, and the value axis labelled with `tick` (a money formatter)."""
    width, height = 540, 320
    left, right, top_m, bottom = 80, 24, 56, 44
    plot_w, plot_h = width - left - right, height - top_m - bottom
    out = _open(chart_id, width, height, title, desc)
    top, steps = nice_scale(max((v for s in series for v in s.values), default=0))
    for i in range(steps + 1):
        value = top * i // steps
        y = top_m + plot_h - plot_h * i / steps
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(_text(left - 6, y + 4, tick(value), anchor="end", size=13, fill=MUTED))
    n = len(periods)

    def x_of(i: int) -> float:
        return left + (plot_w / 2 if n <= 1 else plot_w * i / (n - 1))

    every = max(1, math.ceil(n / 5))
    for i, period in enumerate(periods):
        if i % every == 0 or i == n - 1:
            anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
            out.append(_text(x_of(i), height - bottom + 20, period, anchor=anchor, size=13))
    out.append(
        f'<line x1="{left}" y1="{top_m + plot_h}" x2="{width - right}" y2="{top_m + plot_h}" '
        f'stroke="{INK}"/>'
    )
    for k, s in enumerate(series):
        colour, dash, shape = STYLES[k % len(STYLES)]
        points = [(x_of(i), top_m + plot_h - plot_h * v / top) for i, v in enumerate(s.values)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"'
            f"{dash_attr}/>"
        )
        # Markers on every point when few, else on the last one only.
        for i, (x, y) in enumerate(points):
            if n <= 24 or i == n - 1:
                out.append(_marker(shape, x, y, colour))
        # The legend: a sample of the line and its marker, then the name.
        lx = left + k * (plot_w / max(1, len(series)))
        out.append(
            f'<line x1="{lx:.1f}" y1="22" x2="{lx + 28:.1f}" y2="22" stroke="{colour}" '
            f'stroke-width="2.5"{dash_attr}/>'
        )
        out.append(_marker(shape, lx + 14, 22, colour))
        out.append(_text(lx + 34, 27, _shorten(s.label, 16), size=14))
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text in it went through escape()
