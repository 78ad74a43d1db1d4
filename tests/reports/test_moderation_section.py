"""The moderation section against a hand-counted week: three listings flagged as fraud at 09:00 on Monday
2 March 2026 (local), decided after 2 h (kept), 5 h (removed) and 14 h (removed, late).
Decided within 12 h: 2 ÷ 3 = 66.7 %; median time to decision 5 h; decisions: 1 keep, 2 removals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from moderation import services
from moderation.models import Case
from reports.sections import context_for
from reports.sections.moderation import moderation_section
from saypro import periods
from tests.factories import ListingFactory, UserFactory

from .conftest import local

pytestmark = pytest.mark.django_db

FLAGGED = local(2026, 3, 2, 9, 0)
NOW = local(2026, 3, 10, 12, 0)


@pytest.fixture(autouse=True)
def _rules_only_spam_detection(settings):
    settings.MODERATION_SPAM_CSV = ""


def test_moderation_section(moderator):
    reporter = UserFactory()
    for hours, action in ((2, "keep"), (5, "remove"), (14, "remove")):
        with time_machine.travel(FLAGGED, tick=False) as clock:
            listing = ListingFactory()
            services.flag_create(
                reporter=reporter, kind="listing", object_id=listing.pk, reason="fraud", comment="Scam"
            )
            case = Case.objects.get(object_id=listing.pk)
            clock.move_to(FLAGGED + timedelta(hours=hours))
            services.case_decide(case=case, by=moderator, action=action, rule="scam", reason="Checked.")
    week = periods.containing(periods.WEEK, date(2026, 3, 2))
    with time_machine.travel(NOW, tick=False):
        section = moderation_section(context_for(week, NOW))
    values = {f.key: f.value for f in section.figures}
    # Flagged in the week and decided after 2 h, 5 h and 14 h: two of three within 12 h of the first flag.
    assert values["moderation.decided_12h"] == pytest.approx(200 / 3)
    assert values["moderation.median_hours"] == pytest.approx(5.0)
    assert (values["moderation.flags"], values["moderation.actions"]) == (3, 3)
    actions = {row[0]: row[1] for row in next(t for t in section.tables if t.key == "moderation_actions").rows}
    assert actions["Kept (flags dismissed)"] == 1 and actions["Removed"] == 2
