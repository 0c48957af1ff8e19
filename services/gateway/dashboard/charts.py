"""Small charts drawn on the server as inline SVG: no script, no build step, readable by screen
readers through their title and a table of the same numbers beside them."""

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 36
COLOURS = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#db2777")


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float]]


@dataclass(frozen=True)
class Interval:
    label: str
    value: float
    low: float
    high: float


def number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def scale(value: float, low: float, high: float, start: float, end: float) -> float:
    if high == low:
        return (start + end) / 2
    return start + (value - low) / (high - low) * (end - start)


def frame(title: str, body: list[str], css_class: str) -> Markup:
    return Markup(
        f'<svg class="chart {css_class}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def y_axis(low: float, high: float, label: str) -> list[str]:
    parts = []
    for i in range(5):
        value = low + (high - low) * i / 4
        y = scale(value, low, high, HEIGHT - BOTTOM, TOP)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{number(value)}</text>"
        )
    parts.append(
        f'<text class="axis-label" x="12" y="{TOP + (HEIGHT - TOP - BOTTOM) / 2:.0f}" '
        f'transform="rotate(-90 12 {TOP + (HEIGHT - TOP - BOTTOM) / 2:.0f})" '
        f'text-anchor="middle">{escape(label)}</text>'
    )
    return parts


def legend(names: Sequence[str]) -> list[str]:
    parts = []
    for i, name in enumerate(names):
        x = LEFT + 8 + i * 140
        colour = COLOURS[i % len(COLOURS)]
        parts.append(
            f'<rect x="{x}" y="{TOP}" width="10" height="10" fill="{colour}"/>'
            f'<text class="legend" x="{x + 14}" y="{TOP + 9}">{escape(name)}</text>'
        )
    return parts


def line_chart(title: str, series: Sequence[Series], x_label: str, y_label: str) -> Markup:
    """Lines over a shared x axis (e.g. training and validation loss by step)."""
    points = [p for s in series for p in s.points]
    if not points:
        return Markup("")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x_low, x_high = min(xs), max(xs)
    y_low, y_high = min(0.0, min(ys)), max(ys) * 1.05 or 1.0
    body = y_axis(y_low, y_high, y_label)
    for i, line in enumerate(series):
        coords = " ".join(
            f"{scale(x, x_low, x_high, LEFT, WIDTH - RIGHT):.1f},"
            f"{scale(y, y_low, y_high, HEIGHT - BOTTOM, TOP):.1f}"
            for x, y in line.points
        )
        colour = COLOURS[i % len(COLOURS)]
        body.append(
            f'<polyline class="series" data-series="{escape(line.name)}" fill="none" '
            f'stroke="{colour}" stroke-width="2" points="{coords}"/>'
        )
    body.append(
        f'<text class="tick" x="{LEFT}" y="{HEIGHT - 18}">{number(x_low)}</text>'
        f'<text class="tick" x="{WIDTH - RIGHT}" y="{HEIGHT - 18}" text-anchor="end">'
        f"{number(x_high)}</text>"
        f'<text class="axis-label" x="{(LEFT + WIDTH - RIGHT) / 2:.0f}" y="{HEIGHT - 4}" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    if len(series) > 1:
        body.extend(legend([s.name for s in series]))
    return frame(title, body, "line-chart")


def interval_chart(title: str, intervals: Sequence[Interval], reference: float | None) -> Markup:
    """One row per arm: its value as a dot, its confidence interval as a bar."""
    if not intervals:
        return Markup("")
    values = [v for i in intervals for v in (i.low, i.high, i.value)]
    if reference is not None:
        values.append(reference)
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or 0.05
    low, high = low - pad, high + pad
    row = (HEIGHT - TOP - BOTTOM) / len(intervals)
    left = LEFT + 90
    body = []
    for tick in range(5):
        value = low + (high - low) * tick / 4
        x = scale(value, low, high, left, WIDTH - RIGHT)
        body.append(
            f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}"/>'
            f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">'
            f"{number(value)}</text>"
        )
    if reference is not None:
        x = scale(reference, low, high, left, WIDTH - RIGHT)
        body.append(
            f'<line class="reference" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" '
            f'y2="{HEIGHT - BOTTOM}" stroke-dasharray="4 3"/>'
        )
    for i, item in enumerate(intervals):
        y = TOP + row * (i + 0.5)
        x1, x2 = (scale(v, low, high, left, WIDTH - RIGHT) for v in (item.low, item.high))
        cx = scale(item.value, low, high, left, WIDTH - RIGHT)
        colour = COLOURS[i % len(COLOURS)]
        body.append(
            f'<text class="legend" x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(item.label)}</text>"
            f'<line class="interval" data-arm="{escape(item.label)}" x1="{x1:.1f}" '
            f'x2="{x2:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="6" '
            f'stroke-linecap="round" opacity="0.45"/>'
            f'<circle cx="{cx:.1f}" cy="{y:.1f}" r="6" fill="{colour}"/>'
        )
    return frame(title, body, "interval-chart")


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series], y_label: str) -> Markup:
    """Stacked bars, one per label (e.g. per day), one colour per series."""
    if not labels:
        return Markup("")
    totals = [sum(s.points[i][1] for s in series) for i in range(len(labels))]
    high = max(totals) * 1.1 or 1.0
    body = y_axis(0.0, high, y_label)
    slot = (WIDTH - LEFT - RIGHT) / len(labels)
    for i, label in enumerate(labels):
        base = 0.0
        x = LEFT + slot * i + slot * 0.15
        for j, line in enumerate(series):
            value = line.points[i][1]
            y_top = scale(base + value, 0, high, HEIGHT - BOTTOM, TOP)
            y_bottom = scale(base, 0, high, HEIGHT - BOTTOM, TOP)
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{y_top:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{max(0.0, y_bottom - y_top):.1f}" fill="{COLOURS[j % len(COLOURS)]}">'
                f"<title>{escape(label)} {escape(line.name)}: {number(value)}</title></rect>"
            )
            base += value
        if len(labels) <= 16 or i % (len(labels) // 8 + 1) == 0:
            body.append(
                f'<text class="tick" x="{x + slot * 0.35:.1f}" y="{HEIGHT - BOTTOM + 14}" '
                f'text-anchor="middle">{escape(label[-5:])}</text>'
            )
    body.extend(legend([s.name for s in series]))
    return frame(title, body, "bar-chart")


__all__ = ["Interval", "Series", "bar_chart", "interval_chart", "line_chart", "number"]
