"""Every chart of the product, drawn once with matplotlib: SVG for the web pages, PNG for the PDF and downloads.

A chart with a target draws it as a dashed line; legends sit inside the figure; long labels wrap and crowded
ones rotate, never cut; each area has one colour wherever it appears, and every series also differs by its
hatch, marker or line style, so that a chart still reads when printed in greyscale.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import re
import textwrap
import threading
from collections.abc import Sequence
from dataclasses import asdict
from functools import lru_cache
from html import escape
from typing import Any

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..document import PERCENT, Chart, Series, format_value

# One colour per area (reports.sections.AREAS, and "general" for the figures across areas); the other series of
# a chart take the rest of the palette in order. Chosen apart in hue and in lightness, so greyscale keeps them apart.
AREA_COLOURS = {
    "accounts": "#2350c8",
    "messaging": "#1f8a9e",
    "support": "#1d7a46",
    "moderation": "#8a3ffc",
    "general": "#3b4556",
}
OTHERS = ("#e0a100", "#b0523a", "#7a869a", "#0b2a6f", "#c4589c", "#5c3d1e")
# A share chart's slices are not areas: they take the non-area colours first.
SLICES = (*OTHERS, *AREA_COLOURS.values())
TARGET = "#b42318"
HATCHES = ("", "///", "...", "xx", "\\\\\\", "++", "oo", "--")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), "-", "--")
TEXT, MUTED, GRID = "#1c2430", "#5d6878", "#e3e7ee"
FONT_SIZE = 8
# Inches: the web's charts are scaled up to their box (about 460 px wide, so 8 pt type reads at about 11 px);
# the PDF's fill the text width of an A4 page, low enough for four to a page.
WEB_SIZE = (4.6, 2.5)
PDF_SIZE = (6.6, 1.8)
# Half the text width: small multiples two abreast.
PDF_COMPACT_SIZE = (3.2, 2.0)
# Sharp on screen and on an office printer; every dot more costs the report time to draw and to pack.
PDF_DPI = 150
# Beyond this many categories every other label (or fewer) is printed, the rest readable in the table beside.
MAX_LABELS = 16
WRAP = 16
LEGEND_WRAP = 40
# Crowded category labels are turned this many degrees.
ROTATION = 35


def series_colours(chart: Chart) -> list[str]:
    """The colour of each series: its own area's, else the chart's area for the first series, then the others."""
    # Series that are not areas take the non-area colours first, so an area colour keeps meaning its area.
    out, spare = [], [*OTHERS, *(c for c in AREA_COLOURS.values() if c != AREA_COLOURS.get(chart.area))]
    for index, series in enumerate(chart.series):
        if series.area in AREA_COLOURS:
            out.append(AREA_COLOURS[series.area])
        elif index == 0 and chart.area in AREA_COLOURS:
            out.append(AREA_COLOURS[chart.area])
        else:
            out.append(spare[(index - (1 if chart.area in AREA_COLOURS else 0)) % len(spare)])
    return out


def _wrap(label: str, width: int = WRAP) -> str:
    return "\n".join(textwrap.wrap(label, width=width, break_long_words=True)) or label


def _value_axis(ax: Axes, chart: Chart, top: float) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: format_value(value, chart.unit)))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
    if chart.unit == PERCENT:
        ax.set_ylim(0, 100 if top <= 100 else top * 1.05)
    else:
        ax.set_ylim(0, max(top * 1.1, 1.0))
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color(GRID)
    ax.spines["bottom"].set_color(MUTED)
    ax.tick_params(colors=MUTED, labelsize=FONT_SIZE - 1)


def _category_axis(ax: Axes, labels: Sequence[str], positions: Sequence[float], width: float) -> tuple[list[str], bool]:
    """Every label whole: wrapped when there is room, rotated when the categories are many, thinned beyond
    MAX_LABELS (every k-th printed). `width` is the figure's, in inches. Returns the labels as printed and
    whether they are rotated."""
    step = max(1, math.ceil(len(labels) / MAX_LABELS))
    ax.set_xticks([p for i, p in enumerate(positions) if i % step == 0])
    shown = [label for i, label in enumerate(labels) if i % step == 0]
    # Rotated only when the labels, each wrapped to WRAP characters, would not sit side by side ("Mon" … "Sun"
    # stay level; 14 dates or long category names turn).
    across = width * 72 * 0.75 / ((FONT_SIZE - 1) * 0.62)
    crowded = sum(min(len(label), WRAP) + 3 for label in shown) > across or any(len(x) > 2 * WRAP for x in shown)
    printed = [_wrap(label, 28 if crowded else WRAP) for label in shown]
    if crowded:
        ax.set_xticklabels(printed, rotation=ROTATION, ha="right", rotation_mode="anchor")
    else:
        ax.set_xticklabels(printed)
    return printed, crowded


TARGET_LINE: dict[str, Any] = {"color": TARGET, "linestyle": (0, (5, 3)), "linewidth": 1.3, "zorder": 4}


def _target(ax: Axes, chart: Chart, positions: Sequence[float], bar_width: float | None = None) -> None:
    """The chart's target line, or each series' own targets: along a line series, across each of its bars."""
    if chart.target is not None:
        ax.axhline(chart.target, label=f"Target {format_value(chart.target, chart.unit)}", **TARGET_LINE)
        return
    label = "Target"
    for j, series in enumerate(chart.series):
        points = [(p, t) for p, t in zip(positions, series.targets or [], strict=False) if t is not None]
        if not points:
            continue
        if bar_width is None:
            ax.plot([p for p, _ in points], [t for _, t in points], label=label, **TARGET_LINE)
        else:
            left = [p - 0.4 + bar_width * j for p, _ in points]
            ax.hlines([t for _, t in points], left, [x + bar_width for x in left], label=label, **TARGET_LINE)
        label = "_"  # one legend entry for all the targets: each series' name says its own


def _series_label(series: Series, unit: str) -> str:
    """A series held to a target of its own names it: several dashed lines are told apart by the legend."""
    targets = {t for t in series.targets or [] if t is not None}
    return f"{series.name}, target {format_value(targets.pop(), unit)}" if len(targets) == 1 else series.name


def _top(chart: Chart, values: Sequence[float]) -> float:
    """The highest value to show: the data's, the chart's target or any series' own."""
    targets = [chart.target] if chart.target is not None else []
    targets += [t for s in chart.series for t in s.targets or [] if t is not None]
    return max([0.0, *values, *targets])


def _legend(fig: Figure, ax: Axes) -> float:
    """Above the plot, inside the figure: as many columns as the figure's width holds whole entries. Returns
    the height it takes, in points."""
    handles, labels = ax.get_legend_handles_labels()
    if not (len(handles) > 1 or (handles and labels[0].startswith("Target"))):
        return 0.0
    wrapped = [_wrap(label, LEGEND_WRAP) for label in labels]
    longest = max(len(line) for label in wrapped for line in label.split("\n"))
    # About how many characters of legend type fit across the figure, less the key and gap of each entry.
    across = fig.get_figwidth() * 72 / (FONT_SIZE * 0.62)
    columns = max(1, min(len(handles), int(across // (longest + 8))))
    # The legend takes its own height: the plot keeps the height it was given.
    heights = [label.count("\n") + 1 for label in wrapped]
    lines = sum(max(heights[i : i + columns]) for i in range(0, len(heights), columns))
    height = lines * FONT_SIZE * 1.35 + 6
    fig.set_figheight(fig.get_figheight() + height / 72)
    fig.legend(
        handles,
        wrapped,
        loc="upper center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=columns,
        frameon=False,
        fontsize=FONT_SIZE - 0.5,
        borderaxespad=0.2,
    )
    return height


def _place(fig: Figure, ax: Axes, chart: Chart, printed: list[str], rotated: bool, legend: float) -> None:
    """The plot's margins, worked out from what stands around it: the value labels on the left, the category
    labels below (rotated ones reach down and to the left), the legend above. matplotlib's own layout engine
    would find them by drawing the chart once more, which doubles the time a report spends on its charts."""
    width, height = fig.get_figwidth() * 72, fig.get_figheight() * 72
    tick = FONT_SIZE - 1
    char, line = tick * 0.62, tick * 1.3
    top_value = format_value(ax.get_ylim()[1], chart.unit)
    left = len(top_value) * char + 12
    lines = [label.split("\n") for label in printed] or [[""]]
    if rotated:
        angle = math.radians(ROTATION)
        reach = [max(len(x) for x in ls) * char * math.cos(angle) for ls in lines]
        drop = max(max(len(x) for x in ls) * char * math.sin(angle) + len(ls) * line for ls in lines)
        # The first label hangs left of its tick, which stands half a slot inside the plot.
        slot = (width - left) / max(1, len(chart.labels))
        left = max(left, reach[0] - slot / 2 + 6)
    else:
        drop = max(len(ls) for ls in lines) * line
    bottom = drop + 10
    # Labels taller than a couple of lines get room of their own: the plot keeps the height it was given.
    grown = max(0.0, bottom - 34)
    fig.set_figheight(fig.get_figheight() + grown / 72)
    height += grown
    top = legend + 6
    fig.subplots_adjust(
        left=min(0.45, left / width),
        right=1 - 10 / width,
        bottom=min(0.6, bottom / height),
        top=1 - top / height,
    )


def _bar(fig: Figure, chart: Chart) -> None:
    ax = fig.add_subplot()
    colours = series_colours(chart)
    count = max(1, len(chart.series))
    width = 0.8 / count
    positions = list(range(len(chart.labels)))
    for j, series in enumerate(chart.series):
        ax.bar(
            [p - 0.4 + width * (j + 0.5) for p in positions],
            [v or 0.0 for v in series.values],
            width=width * 0.92,
            color=colours[j],
            hatch=HATCHES[j % len(HATCHES)],
            edgecolor="white",
            linewidth=0.4,
            label=_series_label(series, chart.unit),
        )
    _value_axis(ax, chart, _top(chart, [v for s in chart.series for v in s.values if v is not None]))
    printed, rotated = _category_axis(ax, chart.labels, positions, fig.get_figwidth())
    _target(ax, chart, positions, width)
    _place(fig, ax, chart, printed, rotated, _legend(fig, ax))


def _line(fig: Figure, chart: Chart) -> None:
    ax = fig.add_subplot()
    colours = series_colours(chart)
    positions = list(range(len(chart.labels)))
    for j, series in enumerate(chart.series):
        # A missing value is a gap in the line, not a drop to zero.
        values = [math.nan if v is None else v for v in series.values]
        ax.plot(
            positions,
            values,
            color=colours[j],
            linestyle=LINESTYLES[j % len(LINESTYLES)],
            marker=MARKERS[j % len(MARKERS)],
            markersize=3.5 if len(positions) <= 40 else 2,
            linewidth=1.6,
            label=_series_label(series, chart.unit),
        )
    _value_axis(ax, chart, _top(chart, [v for s in chart.series for v in s.values if v is not None]))
    ax.set_xlim(-0.5, max(0.5, len(positions) - 0.5))
    printed, rotated = _category_axis(ax, chart.labels, positions, fig.get_figwidth())
    _target(ax, chart, positions)
    _place(fig, ax, chart, printed, rotated, _legend(fig, ax))


def _pie(fig: Figure, chart: Chart) -> None:
    """A share chart: the slices with their hatches, and a legend that names each with its value and share."""
    ax = fig.add_subplot()
    values = [v or 0.0 for v in chart.series[0].values] if chart.series else []
    total = sum(values)
    if not total:
        _empty(ax)
        return
    shown = [(i, label, v) for i, (label, v) in enumerate(zip(chart.labels, values, strict=True)) if v]
    colours = [SLICES[i % len(SLICES)] for i, _, _ in shown]
    wedges, *_ = ax.pie(
        [v for _, _, v in shown],
        colors=colours,
        hatch=[HATCHES[i % len(HATCHES)] for i, _, _ in shown],
        startangle=90,
        counterclock=False,
        wedgeprops={"edgecolor": "white", "linewidth": 0.8},
    )
    ax.set_aspect("equal")
    # Beside a pie half the text width wide, a legend wrapped shorter leaves the pie room to be read.
    wrap = 44 if fig.get_figwidth() > PDF_COMPACT_SIZE[0] else 24
    ax.legend(
        wedges,
        [_wrap(f"{label}: {format_value(v, chart.unit)} ({v / total * 100:.1f} %)", wrap) for _, label, v in shown],
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        frameon=False,
        fontsize=FONT_SIZE - 0.5,
    )


def _empty(ax: Axes) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, "No data in this period", ha="center", va="center", color=MUTED, fontsize=FONT_SIZE)


def _figure(chart: Chart, size: tuple[float, float]) -> Figure:
    height = size[1]
    if chart.kind == "pie":
        height = max(height, 0.9 + 0.22 * len(chart.labels))
    with_data = chart.labels and any(v is not None for s in chart.series for v in s.values)
    # Bars and lines place their plot themselves (_place); a pie and its legend are left to the layout engine.
    fig = Figure(figsize=(size[0], height), layout=None if with_data and chart.kind != "pie" else "constrained")
    fig.set_facecolor("white")
    if chart.kind == "pie":
        _pie(fig, chart)
    elif not with_data:
        _empty(fig.add_subplot())
    else:
        {"bar": _bar, "line": _line}[chart.kind](fig, chart)
    return fig


# Type, colours and SVG output shared by every chart (applied per drawing: matplotlib's global settings stay as
# they are for anything else in the process).
STYLE: dict[Any, Any] = {
    "font.size": FONT_SIZE,
    "text.color": TEXT,
    "axes.labelcolor": TEXT,
    "hatch.linewidth": 0.6,
    "hatch.color": "white",
    # Text stays text in the SVG: selectable, read by screen readers, set in the page's font.
    "svg.fonttype": "none",
    "svg.hashsalt": "saypro",
}


# One drawing at a time in a process: rc_context changes matplotlib's process-wide settings for the drawing, and
# a report draws its PDF charts in a thread of its own (reports.render.pdf.ChartsAhead) while a page may draw.
_DRAWING = threading.RLock()


def chart_png(chart: Chart, size: tuple[float, float] = PDF_SIZE, dpi: int = PDF_DPI) -> bytes:
    return _chart_png(_content(chart), size, dpi)


# Drawing a chart takes a tenth of a second or more, and the same data is drawn again and again: pages show the
# same period and tiles, a report generated again (its period closed) or filtered keeps most of its charts, and a
# report's cards share their trends with the dashboard's. The drawings are kept per process by their content.
@lru_cache(maxsize=128)
def _chart_png(content: str, size: tuple[float, float], dpi: int) -> bytes:
    with _DRAWING, rc_context(STYLE):
        fig = _figure(_chart(content), size)
    return _png(fig, dpi)


def _png(fig: Figure, dpi: int = PDF_DPI) -> bytes:
    buffer = io.BytesIO()
    with _DRAWING, rc_context(STYLE):
        # Light compression: the PDF compresses the image again, and packing hard costs more than it saves.
        fig.savefig(buffer, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def _content(chart: Chart) -> str:
    """The chart as a cache key: everything it shows."""
    return json.dumps(asdict(chart))


def _chart(content: str) -> Chart:
    data = json.loads(content)
    return Chart(**{**data, "series": [Series(**s) for s in data["series"]]})


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height in pixels, read from the PNG header."""
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


_SVG_OPEN = re.compile(r"<svg\b[^>]*>")


def _svg(fig: Figure, attributes: str, title: str) -> str:
    buffer = io.StringIO()
    with _DRAWING, rc_context(STYLE):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    # The XML prologue and the metadata block mean nothing inside an HTML page.
    text = re.sub(r"<metadata>.*?</metadata>", "", text[text.index("<svg") :], flags=re.S)
    match = _SVG_OPEN.search(text)
    assert match is not None
    view_box = re.search(r'viewBox="([^"]+)"', match.group(0))
    opening = (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'viewBox="{view_box.group(1) if view_box else "0 0 460 200"}" {attributes}>{title}'
    )
    return opening + text[match.end() :]


_drawings = itertools.count(1)


def _own_ids(svg: str) -> str:
    """matplotlib names the parts of a drawing (clip paths, markers, hatches, groups) by their content, so two
    charts on one page would share ids: each drawing placed on a page gets its own prefix."""
    prefix = f"d{next(_drawings)}-"
    svg = re.sub(r'\bid="(?!chart-)([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    return re.sub(r'(url\(#|href="#)(?!chart-)', lambda m: m.group(1) + prefix, svg)


def chart_svg(chart: Chart) -> str:
    """The chart for a web page: its title for screen readers, the drawing scaled to its box."""
    return _own_ids(_chart_svg(_content(chart)))


@lru_cache(maxsize=256)
def _chart_svg(content: str) -> str:
    chart = _chart(content)
    with _DRAWING, rc_context(STYLE):
        fig = _figure(chart, WEB_SIZE)
    key = escape(chart.key)
    return _svg(
        fig,
        f'class="chart" role="img" aria-labelledby="chart-{key}-title" data-chart="{key}"',
        f'<title id="chart-{key}-title">{escape(chart.title)}</title>',
    )


def _sparkline_figure(
    points: Sequence[float | None], target: float | None, colour: str, size: tuple[float, float]
) -> Figure:
    fig = Figure(figsize=size)
    fig.set_facecolor("none")
    ax = fig.add_axes((0.02, 0.08, 0.96, 0.84))
    ax.set_axis_off()
    known = [v for v in points if v is not None]
    # The scale starts below the lowest point (or the target) in steps of 10, so a quarter at 96 % against
    # 100 % does not look like a flat line at the top.
    lowest = min([*known, *([target] if target is not None else []), 100.0])
    floor = max(0.0, 10 * math.floor((lowest - 5) / 10))
    ceiling = max([*known, 100.0])
    ax.set_ylim(floor, ceiling)
    ax.set_xlim(-0.3, max(1, len(points) - 1) + 0.3)
    if target is not None:
        ax.axhline(target, color=TARGET, linestyle=(0, (3, 2)), linewidth=1)
    xs = list(range(len(points)))
    ax.plot(xs, [math.nan if v is None else v for v in points], color=colour, linewidth=1.8, marker="o", markersize=2)
    last = [(x, v) for x, v in zip(xs, points, strict=True) if v is not None][-1:]
    for x, v in last:
        ax.plot([x], [v], marker="o", markersize=4, color=colour)
    return fig


def sparkline_svg(
    points: list[float | None], *, target: float | None = None, label: str = "", area: str = "general"
) -> str:
    """A small trend of percentages for a tile or a summary card, the target dashed."""
    return _own_ids(_sparkline_svg(tuple(points), target, label, area))


@lru_cache(maxsize=256)
def _sparkline_svg(points: tuple[float | None, ...], target: float | None, label: str, area: str) -> str:
    with _DRAWING, rc_context(STYLE):
        fig = _sparkline_figure(points, target, AREA_COLOURS.get(area, AREA_COLOURS["general"]), (2.0, 0.4))
    return _svg(fig, f'class="sparkline" role="img" aria-label="{escape(label)}"', "")


def sparkline_png(
    points: list[float | None],
    *,
    target: float | None = None,
    area: str = "general",
    size: tuple[float, float] = (1.6, 0.4),
) -> bytes:
    return _sparkline_png(tuple(points), target, area, size)


@lru_cache(maxsize=256)
def _sparkline_png(
    points: tuple[float | None, ...], target: float | None, area: str, size: tuple[float, float]
) -> bytes:
    with _DRAWING, rc_context(STYLE):
        fig = _sparkline_figure(points, target, AREA_COLOURS.get(area, AREA_COLOURS["general"]), size)
    return _png(fig)
