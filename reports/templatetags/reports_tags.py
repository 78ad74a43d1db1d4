from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from ..document import Chart, cell_text
from ..render.charts import chart_svg, sparkline_svg

register = template.Library()


@register.simple_tag
def chart(value: Chart) -> SafeString:
    # The SVG builder escapes every label and title it writes.
    return mark_safe(chart_svg(value))


@register.simple_tag
def sparkline(
    points: list[float | None], target: float | None = None, label: str = "", area: str = "general"
) -> SafeString:
    # The SVG builder escapes the label it writes.
    return mark_safe(sparkline_svg(points, target=target, label=label, area=area))


@register.filter
def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@register.filter
def cell(value: object) -> str:
    """A table cell as the PDF shows it: thousands separated, no trailing zeros, a dash for nothing."""
    return cell_text(value)
