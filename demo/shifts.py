"""The demo staff's shift calendars: without them every staff member counts as always on duty.

The operation opens 07:00-22:00 on weekdays and 08:00-18:00 at weekends (TIME_ZONE), the hours the quarter's
reviews were simulated in (demo.accounts.simulator.on_shift). A weekday has an early and a late shift, a weekend
day one shift; the members of a team take the four patterns below in turn, so that any two in a row cover every
weekday hour and one weekend day each, and a team of four covers every opening hour. Each shift is a
business-hours calendar (sla.Calendar) on the member's profile (accounts.AgentProfile.working_hours): the
models that routing and the on-duty checks read.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import transaction

from accounts.models import AgentProfile, User
from demo.accounts.vocabulary import REVIEWERS
from demo.core import DemoContext
from demo.messaging import AGENTS as MESSAGING_AGENTS
from demo.moderation.simulator import MODERATORS
from demo.support.vocabulary import AGENTS as SUPPORT_AGENTS
from saypro.sla.models import BusinessHours, Calendar

WEEKDAYS = range(5)
SATURDAY, SUNDAY = 5, 6
EARLY = (time(7), time(14, 30))
LATE = (time(14, 30), time(22))
WEEKEND = (time(8), time(18))
# (name, weekday hours, weekend day), in the order a team's members take them.
SHIFTS = (
    ("Early shift, Saturdays", EARLY, SATURDAY),
    ("Late shift, Sundays", LATE, SUNDAY),
    ("Early shift, Sundays", EARLY, SUNDAY),
    ("Late shift, Saturdays", LATE, SATURDAY),
)
_MESSAGING_TEAMS: dict[str, list[str]] = {}
for _email, _name, _teams, _languages in MESSAGING_AGENTS:
    _MESSAGING_TEAMS.setdefault(_teams[0], []).append(_email)
# The teams whose members work shifts, by e-mail address (a messaging agent in two teams takes a turn in the
# first). The demo staff logins stay always on duty: whoever tries the demo finds their queue at any hour.
TEAMS = (
    tuple(email for email, _ in REVIEWERS),
    tuple(email for email, _ in MODERATORS),
    tuple(entry[0] for entry in SUPPORT_AGENTS),
    *(tuple(emails) for emails in _MESSAGING_TEAMS.values()),
)


def shift_calendar(name: str, weekday_hours: tuple[time, time], weekend_day: int) -> Calendar:
    calendar, created = Calendar.objects.get_or_create(
        name=name, defaults={"kind": Calendar.Kind.BUSINESS, "time_zone": settings.TIME_ZONE}
    )
    if created:
        intervals = [(day, *weekday_hours) for day in WEEKDAYS] + [(weekend_day, *WEEKEND)]
        hours = [BusinessHours(calendar=calendar, weekday=day, start=start, end=end) for day, start, end in intervals]
        for row in hours:
            row.full_clean(exclude=["calendar"])
        BusinessHours.objects.bulk_create(hours)
    return calendar


@transaction.atomic
def shifts_phase(ctx: DemoContext) -> None:
    calendars = [shift_calendar(*shift) for shift in SHIFTS]
    for team in TEAMS:
        members = User.objects.in_bulk(team, field_name="email")
        for index, email in enumerate(email for email in team if email in members):
            calendar = calendars[index % len(calendars)]
            AgentProfile.objects.update_or_create(user=members[email], defaults={"working_hours": calendar})
            ctx.created["demo shifts"] += 1
