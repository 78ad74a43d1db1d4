"""The one chart module: a target line wherever there is a target, legends and labels inside the figure and
whole, one colour per area, series told apart without colour, and web charts that screen readers can name."""

from __future__ import annotations

import re
from unittest import mock

import pytest

from reports.document import PERCENT, Chart, Series
from reports.render import charts
from reports.render.charts import (
    AREA_COLOURS,
    PDF_DPI,
    PDF_SIZE,
    _figure,
    chart_png,
    chart_svg,
    png_size,
    series_colours,
    sparkline_png,
    sparkline_svg,
)

LONG = "Registrations waiting on a second verification step"


def promises_chart() -> Chart:
    return Chart(
        key="promises",
        title="Achievement by week",
        kind="line",
        labels=[f"Week {n}" for n in range(1, 14)],
        series=[
            Series("Registrations decided within 48 h of review time", [90.0 + n % 5 for n in range(13)], "accounts"),
            Series("Conversations first answered within 24 h", [None, *(95.0 for _ in range(12))], "messaging"),
            Series("Tickets resolved within their priority's target (8 / 16 / 24 h)", [97.0] * 13, "support"),
            Series("Flagged content decided within 12 h", [80.0] * 13, "moderation"),
        ],
        unit=PERCENT,
        target=95.0,
    )


def bar_chart() -> Chart:
    return Chart(
        key="causes",
        title="Delays by cause",
        kind="bar",
        labels=[LONG, "Documents unreadable", "Review backlog"],
        series=[Series("Late decisions", [12, 4, 30]), Series("All decisions", [40, 20, 90])],
        target=25,
        area="accounts",
    )


@pytest.mark.parametrize("chart", [promises_chart(), bar_chart()], ids=["line", "bar"])
def test_the_legend_and_every_label_stay_inside_the_figure(chart):
    figure = _figure(chart, PDF_SIZE)
    figure.draw_without_rendering()
    frame = figure.bbox
    legends = figure.legends
    assert len(legends) == 1
    box = legends[0].get_window_extent()
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    for label in [*figure.axes[0].get_xticklabels(), *figure.axes[0].get_yticklabels()]:
        extent = label.get_window_extent()
        assert frame.x0 <= extent.x0 and extent.x1 <= frame.x1 and frame.y0 <= extent.y0, label.get_text()


def test_a_chart_with_a_target_draws_it_and_names_it_in_the_legend():
    svg = chart_svg(bar_chart())
    assert "Target 25" in svg
    figure = _figure(bar_chart(), PDF_SIZE)
    dashed = [line for line in figure.axes[0].get_lines() if line.get_ydata()[0] == 25]
    assert dashed and dashed[0].get_linestyle() == "--"


def test_series_held_to_targets_of_their_own_draw_them_and_name_them():
    """Each promise its own target: a dashed line per series on a line chart, a dashed mark over each bar."""
    line = promises_chart()
    line.target = None
    for series, target in zip(line.series, (100.0, 90.0, 95.0, 100.0), strict=True):
        series.targets = [target] * len(line.labels)
    figure = _figure(line, PDF_SIZE)
    dashed = [ln for ln in figure.axes[0].get_lines() if ln.get_label() in ("Target", "_")]
    assert sorted(ln.get_ydata()[0] for ln in dashed) == [90.0, 95.0, 100.0, 100.0]
    assert all(ln.get_linestyle() == "--" for ln in dashed)
    (legend,) = figure.legends
    names = [text.get_text().replace("\n", " ") for text in legend.get_texts()]
    assert names.count("Target") == 1
    assert "Conversations first answered within 24 h, target 90.0 %" in names

    bars = Chart(
        key="by-category",
        title="Resolution within target by category",
        kind="bar",
        labels=["General inquiry", "Complaint", "Miscellaneous"],
        series=[Series("Achievement %", [97.0, 80.0, 99.0], targets=[95.0, 85.0, None])],
        unit=PERCENT,
    )
    (marks,) = _figure(bars, PDF_SIZE).axes[0].collections
    assert sorted(segment[0][1] for segment in marks.get_segments()) == [85.0, 95.0]
    assert "Target" in chart_svg(bars)


def test_long_labels_are_wrapped_whole_not_cut():
    svg = chart_svg(bar_chart())
    texts = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    for word in LONG.split():
        assert word in texts, word


def test_each_area_keeps_its_colour_and_series_differ_without_colour():
    chart = promises_chart()
    assert series_colours(chart) == [AREA_COLOURS[a] for a in ("accounts", "messaging", "support", "moderation")]
    lines = _figure(chart, PDF_SIZE).axes[0].get_lines()[:4]
    assert len({line.get_linestyle() for line in lines}) == 4 and len({line.get_marker() for line in lines}) == 4
    bars = _figure(bar_chart(), PDF_SIZE).axes[0].patches
    # The first series in the area's colour, plain; the second hatched in another colour.
    assert {p.get_hatch() or "" for p in bars} == {"", "///"}
    assert series_colours(bar_chart())[0] == AREA_COLOURS["accounts"]


def test_web_charts_are_named_images_and_the_pdf_gets_a_picture():
    svg = chart_svg(promises_chart())
    assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-labelledby="chart-promises-title"' in svg
    assert '<title id="chart-promises-title">Achievement by week</title>' in svg
    assert "<script" not in svg and "<?xml" not in svg
    spark = sparkline_svg([90.0, None, 97.0], target=95.0, label="Last quarters: 90 %, —, 97 %")
    assert 'class="sparkline" role="img" aria-label="Last quarters: 90 %, —, 97 %"' in spark
    width, height = png_size(chart_png(promises_chart()))
    assert width == round(PDF_SIZE[0] * PDF_DPI) and height > PDF_SIZE[1] * PDF_DPI


def test_two_drawings_on_one_page_share_no_id():
    # The same data under two keys: matplotlib names the parts of both drawings alike.
    twin = bar_chart()
    twin.key = "causes-again"
    page = chart_svg(bar_chart()) + chart_svg(twin) + sparkline_svg([None]) + sparkline_svg([None])
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    # Every reference points at an id of the same page.
    for ref in re.findall(r'(?:url\(#|href="#)([^")]+)', page):
        assert ref in ids, ref


def test_the_pdf_draws_a_chart_or_a_trend_once_per_content_and_again_when_a_value_changes():
    def chart() -> Chart:  # a title of its own: no other test has drawn it in this process
        drawing = bar_chart()
        drawing.title = "Delays by cause, drawn once"
        return drawing

    changed = chart()
    changed.series[0].values[0] = 13
    with mock.patch("reports.render.charts._figure", wraps=_figure) as drawn:
        first = chart_png(chart())
        assert chart_png(chart()) == first and drawn.call_count == 1
        assert chart_png(changed) != first and drawn.call_count == 2
    trend = [91.5, None, 96.25]
    with mock.patch("reports.render.charts._sparkline_figure", wraps=charts._sparkline_figure) as drawn:
        first = sparkline_png(trend, target=95.0, area="support")
        assert sparkline_png(list(trend), target=95.0, area="support") == first and drawn.call_count == 1
        assert sparkline_png(trend, target=90.0, area="support") != first and drawn.call_count == 2
