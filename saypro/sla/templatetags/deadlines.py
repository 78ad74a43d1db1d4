"""One clock's countdown as every page shows it: `{% load deadlines %}` … `{% deadline due=… state=… %}`.

A tag in Python rather than an included partial because it is rendered for every row of every queue page
(a hundred times and more per page), and each `{% include %}` renders a template in a context of its own, which
was most of a queue page's server time. One renderer also keeps the queues' markup and wording from drifting.

Its output, in order of precedence:
- a paused clock (waiting on the user, the applicant): "Paused", and on whom it waits;
- a deadline (`due`): the countdown, red once `breached`, amber when `at_risk`, its text ("3 hours left",
  "2 hours overdue") from Django's `timeuntil` / `timesince` against the page's `now`. `data-due` and
  `data-risk` carry the instants (ISO 8601) that static/js/app.js counts down from in the browser;
- `decided` (a decision's time, when nothing counts down any more): "Decided" and when;
- otherwise a muted "—".
`label` names the clock ("answer due …", "answer: waiting on the user"); `note` follows the due date
("due … · Standard targets").
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import timesince_filter, timeuntil_filter
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def deadline(
    context: template.Context,
    *,
    due: datetime | None = None,
    risk: datetime | None = None,
    state: str | None = None,
    breached: object = False,
    at_risk: object = False,
    label: str = "",
    note: str = "",
    waiting_on: str = "the user",
    decided: datetime | None = None,
) -> SafeString:
    if state == "paused":
        on = format_html("{}: waiting on {}", label, waiting_on) if label else format_html("waiting on {}", waiting_on)
        return format_html('<span class="deadline paused">Paused<small>{}</small></span>', on)
    if due:
        now = context.get("now")
        if breached:
            css, text = " breached", f"{timesince_filter(due, now)} overdue"
        else:
            css, text = (" at-risk" if at_risk else ""), f"{timeuntil_filter(due, now)} left"
        local_due = _local(due)
        risk_attr = format_html(' data-risk="{}"', date_filter(_local(risk), "c")) if risk else ""
        return format_html(
            '<span class="deadline{}" data-due="{}"{}><span data-countdown-text>{}</span><small>{}</small></span>',
            css,
            date_filter(local_due, "c"),
            risk_attr,
            text,
            format_html(
                "{}due {}{}",
                format_html("{} ", label) if label else "",
                date_filter(local_due, "D j M, H:i"),
                format_html(" · {}", note) if note else "",
            ),
        )
    if decided:
        return format_html(
            '<span class="deadline">Decided<small>{}</small></span>',
            date_filter(_local(decided), "SHORT_DATETIME_FORMAT"),
        )
    return format_html('<span class="muted">{}</span>', "—")


def _local(moment: datetime) -> datetime:
    """The instant in the current time zone, as the template engine hands it to the `date` filter."""
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment
