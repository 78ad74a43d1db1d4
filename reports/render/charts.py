"""Charts as server-rendered SVG for the web pages: no script, no CDN; the PDF draws the same data with
reportlab's graphics (see pdf.py), with the same palette."""

from __future__ import annotations

import math
from html import escape

from ..document import Chart, format_value

PALETTE = ("#2350c8", "#1d7a46", "#e0a100", "#b42318", "#6f42c1", "#1f8a9e", "#8a5a44", "#5d6878")
TARGET = "#b42318"
WIDTH, HEIGHT = 640, 260
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 12, 16, 54


def _nice_max(values: list[float], unit: str) -> float:
    top = max([v for v in values if v is not None] or [0.0])
    if unit == "percent":
        return 100.0
    if top <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(top))
    for step in (1, 2, 2.5, 5, 10):
        if top <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _axis(maximum: float, unit: str) -> list[str]:
    out = []
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    for i in range(5):
        value = maximum * i / 4
        y = PAD_TOP + plot_h - plot_h * i / 4
        out.append(f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e7ee"/>')
        label = f"{value:.0f} %" if unit == "percent" else format_value(value, unit)
        out.append(f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">{escape(label)}</text>')
    return out


def _x_labels(labels: list[str], xs: list[float]) -> list[str]:
    every = max(1, math.ceil(len(labels) / 14))
    out = []
    for i, (label, x) in enumerate(zip(labels, xs, strict=True)):
        if i % every:
            continue
        out.append(
            f'<text x="{x:.1f}" y="{HEIGHT - PAD_BOTTOM + 14}" text-anchor="end" class="axis" '
            f'transform="rotate(-35 {x:.1f} {HEIGHT - PAD_BOTTOM + 14})">{escape(label[:18])}</text>'
        )
    return out


def _legend(names: list[str], y: float) -> list[str]:
    out = []
    x = PAD_LEFT
    for i, name in enumerate(names):
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
        out.append(f'<text x="{x + 14}" y="{y}" class="legend">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return out


def _frame(chart: Chart, body: list[str], height: int = HEIGHT) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="chart-{chart.key}-title" '
        f'data-chart="{escape(chart.key)}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-{chart.key}-title">{escape(chart.title)}</title>' + "".join(body) + "</svg>"
    )


def _bar(chart: Chart) -> str:
    values = [v or 0.0 for s in chart.series for v in s.values]
    maximum = _nice_max(values, chart.unit)
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / max(1, len(chart.labels))
    width = slot * 0.8 / max(1, len(chart.series))
    body = _axis(maximum, chart.unit)
    centers = []
    for i, label in enumerate(chart.labels):
        left = PAD_LEFT + slot * i + slot * 0.1
        centers.append(left + slot * 0.4)
        for j, series in enumerate(chart.series):
            value = series.values[i] or 0.0
            h = plot_h * value / maximum
            x = left + j * width
            tip = f"{label} · {series.name}: {format_value(series.values[i], chart.unit)}"
            body.append(
                f'<rect x="{x:.1f}" y="{PAD_TOP + plot_h - h:.1f}" width="{max(1.0, width - 1):.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(tip)}</title></rect>'
            )
    body += _x_labels(chart.labels, centers)
    if len(chart.series) > 1:
        body += _legend([s.name for s in chart.series], HEIGHT - 6)
    return _frame(chart, body)


def _line(chart: Chart) -> str:
    values = [v for s in chart.series for v in s.values if v is not None]
    maximum = _nice_max(values, chart.unit)
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    n = len(chart.labels)
    xs = [PAD_LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]
    body = _axis(maximum, chart.unit)
    if chart.target is not None:
        y = PAD_TOP + plot_h - plot_h * chart.target / maximum
        body.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{TARGET}" '
            'stroke-dasharray="5 4"/>'
        )
    for j, series in enumerate(chart.series):
        colour = PALETTE[j % len(PALETTE)]
        points = [
            (xs[i], PAD_TOP + plot_h - plot_h * v / maximum, v) for i, v in enumerate(series.values) if v is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for (x, y, v), label in zip(
            points, [chart.labels[i] for i, v in enumerate(series.values) if v is not None], strict=True
        ):
            tip = f"{label} · {series.name}: {format_value(v, chart.unit)}"
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(tip)}</title></circle>'
            )
    body += _x_labels(chart.labels, xs)
    if len(chart.series) > 1:
        body += _legend([s.name for s in chart.series], HEIGHT - 6)
    return _frame(chart, body)


def _pie(chart: Chart) -> str:
    values = [v or 0.0 for v in chart.series[0].values] if chart.series else []
    total = sum(values)
    cx, cy, r = 120, 120, 100
    body = []
    angle = -math.pi / 2
    for i, (label, value) in enumerate(zip(chart.labels, values, strict=True)):
        if not value:
            continue
        share = value / total
        colour = PALETTE[i % len(PALETTE)]
        tip = f"{label}: {format_value(value, chart.unit)} ({share * 100:.1f} %)"
        if share >= 0.9999:
            body.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{colour}"><title>{escape(tip)}</title></circle>')
            continue
        end = angle + 2 * math.pi * share
        x1, y1 = cx + r * math.cos(angle), cy + r * math.sin(angle)
        x2, y2 = cx + r * math.cos(end), cy + r * math.sin(end)
        large = 1 if share > 0.5 else 0
        body.append(
            f'<path d="M{cx},{cy} L{x1:.1f},{y1:.1f} A{r},{r} 0 {large} 1 {x2:.1f},{y2:.1f} Z" fill="{colour}" '
            f'stroke="#fff"><title>{escape(tip)}</title></path>'
        )
        angle = end
    for i, (label, value) in enumerate(zip(chart.labels, values, strict=True)):
        y = 30 + i * 20
        share_text = f"{value / total * 100:.1f} %" if total else "—"
        body.append(f'<rect x="260" y="{y - 10}" width="12" height="12" fill="{PALETTE[i % len(PALETTE)]}"/>')
        body.append(
            f'<text x="278" y="{y}" class="legend">{escape(label)}: {format_value(value, chart.unit)} '
            f"({share_text})</text>"
        )
    if not total:
        body.append('<text x="120" y="124" text-anchor="middle" class="axis">No data</text>')
    return _frame(chart, body, height=max(250, 40 + 20 * len(chart.labels)))


def chart_svg(chart: Chart) -> str:
    return {"bar": _bar, "line": _line, "pie": _pie}[chart.kind](chart)


def sparkline_svg(points: list[float | None], *, target: float | None = None, label: str = "") -> str:
    """A small trend line for a dashboard tile: percentages over time, the target dashed."""
    width, height, pad = 200, 40, 3
    n = len(points)
    xs = [pad + (width - 2 * pad) * i / max(1, n - 1) for i in range(n)]
    # The scale starts below the lowest point (or the target) in steps of 10, so a week at 96 % against 100 %
    # does not look like a flat line at the top.
    lowest = min([v for v in points if v is not None] + ([target] if target is not None else []) + [100.0])
    floor = max(0.0, 10 * math.floor((lowest - 5) / 10))

    def y(value: float) -> float:
        return height - pad - (height - 2 * pad) * (value - floor) / (100 - floor)

    body = []
    if target is not None:
        body.append(
            f'<line x1="0" x2="{width}" y1="{y(target):.1f}" y2="{y(target):.1f}" stroke="{TARGET}" '
            'stroke-dasharray="3 3" stroke-width="1"/>'
        )
    known = [(x, v) for x, v in zip(xs, points, strict=True) if v is not None]
    if len(known) > 1:
        path = " ".join(f"{x:.1f},{y(v):.1f}" for x, v in known)
        body.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
    for x, v in known[-1:]:
        body.append(f'<circle cx="{x:.1f}" cy="{y(v):.1f}" r="2.5" fill="{PALETTE[0]}"/>')
    return (
        f'<svg class="sparkline" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(body)}</svg>'
    )
