"""Account issues, security and privacy, and NPS, against counts made by hand on a few dated events."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from accounts.models import AccountEvent, Feedback, PasswordReset
from reports.sections import context_for
from reports.sections.accounts import account_issues_section, security_section
from reports.sections.support import support_section
from saypro import periods
from support import services as support_services
from tests.factories import UserFactory

from .conftest import local

pytestmark = pytest.mark.django_db

Kind = AccountEvent.Kind
NOW = local(2026, 3, 10, 12, 0)
WEEK = periods.containing(periods.WEEK, date(2026, 3, 2))
IN_WEEK = local(2026, 3, 3, 9, 0)
WEEK_BEFORE = local(2026, 2, 24, 9, 0)


@pytest.fixture
def events():
    user = UserFactory()
    rows = [
        (Kind.SIGN_IN, "", IN_WEEK),
        (Kind.SIGN_IN, "", IN_WEEK),
        (Kind.SIGN_IN_FAILED, "bad_password", IN_WEEK),
        (Kind.SIGN_IN_FAILED, "bad_password", IN_WEEK),
        (Kind.SIGN_IN_FAILED, "locked", IN_WEEK),
        (Kind.SUSPICIOUS, "new_device", IN_WEEK),
        (Kind.SUSPICIOUS, "new_device", WEEK_BEFORE),
        (Kind.SUSPICIOUS, "failure_burst", IN_WEEK),
        (Kind.PRIVACY_CHANGED, "marketing_opt_out", IN_WEEK),
        (Kind.PROFILE_UPDATED, "", IN_WEEK),
    ]
    for kind, reason, at in rows:
        AccountEvent.objects.create(user=user, kind=kind, reason=reason, at=at)
    PasswordReset.objects.create(user=user, requested_at=IN_WEEK, completed_at=IN_WEEK + timedelta(hours=2))
    PasswordReset.objects.create(user=user, requested_at=IN_WEEK)
    for score in (10, 9, 8, 5):  # 2 promoters, 1 passive, 1 detractor: (2 − 1) ÷ 4 = +25
        Feedback.objects.create(user=user, topic=Feedback.Topic.NPS, score=score, created_at=IN_WEEK)


def test_account_issues(events):
    with time_machine.travel(NOW, tick=False):
        section = account_issues_section(context_for(WEEK, NOW))
    values = {f.key: f.value for f in section.figures}
    assert values["account_issues.failed_sign_ins"] == 3
    assert values["account_issues.failure_rate"] == 60.0  # 3 of 5 attempts
    assert values["account_issues.recovery_requests"] == 2
    assert values["account_issues.recovery_completion"] == 50.0
    assert values["account_issues.recovery_hours"] == pytest.approx(2.0)
    reasons = next(t for t in section.tables if t.key == "account_issues_reasons").rows
    assert reasons == [["bad_password", 2], ["locked", 1]]


def test_security_and_privacy(events):
    with time_machine.travel(NOW, tick=False):
        section = security_section(context_for(WEEK, NOW))
    suspicious = next(f for f in section.figures if f.key == "security.suspicious")
    assert (suspicious.value, suspicious.previous) == (2, 1)
    rows = next(t for t in section.tables if t.key == "security_suspicious").rows
    assert sorted(rows) == [["failure burst", 1, 0], ["new device", 1, 1]]
    assert next(f for f in section.figures if f.key == "security.privacy_changes").value == 1


def test_nps_is_promoters_minus_detractors(events):
    with time_machine.travel(NOW, tick=False):
        section = support_section(context_for(WEEK, NOW))
    nps = next(f for f in section.figures if f.key == "support.nps")
    assert nps.value == 25.0 and nps.n == 4 and "n = 4" in nps.sample_text


def ticket(at, *, category, department, requester=None):
    with time_machine.travel(at, tick=False):
        return support_services.ticket_create(
            requester=requester or UserFactory(),
            subject="Cannot sign in",
            body="It keeps asking for the code.",
            channel="web",
            category=category,
            department=department,
        )


def test_account_tickets_by_type_and_the_known_issues_behind_them(agent):
    """Account tickets are those of the Account category or the accounts department, created in the week:
      Account 4 (one of them in the billing department, reopened once), Payment 1 (accounts department);
      three linked to known issues become platform issues: "Sign-in loop" twice by one user, "SMS late" once.
    Left out: a question to billing in the week, and an account ticket of the week before."""
    for _ in range(3):
        ticket(IN_WEEK, category="account", department="accounts")
    reopened = ticket(IN_WEEK, category="account", department="billing")
    ticket(IN_WEEK, category="payment", department="accounts")
    ticket(IN_WEEK, category="question", department="billing")
    ticket(WEEK_BEFORE, category="account", department="accounts")
    with time_machine.travel(IN_WEEK + timedelta(hours=1), tick=False):
        support_services.ticket_set_status(ticket=reopened, by=agent, status="solved")
        support_services.ticket_set_status(ticket=reopened, by=agent, status="open")
        loop = support_services.known_issue_save(by=agent, title="Sign-in loop on Android")
        late = support_services.known_issue_save(by=agent, title="Verification SMS arrives late")
    repeat = UserFactory()
    for issue, requester in ((loop, repeat), (loop, repeat), (late, None)):
        linked = ticket(IN_WEEK, category="account", department="accounts", requester=requester)
        support_services.ticket_link_known_issue(ticket=linked, by=agent, known_issue=issue)
    with time_machine.travel(NOW, tick=False):
        section = account_issues_section(context_for(WEEK, NOW))
    tables = {t.key: t.rows for t in section.tables}
    # [type, tickets, reopened]
    assert tables["account_issues_tickets"] == [["Account", 4, 1], ["Platform issue", 3, 0], ["Payment", 1, 0]]
    # [known issue, tickets, distinct users]
    assert tables["account_issues_recurring"] == [
        ["Sign-in loop on Android", 2, 1],
        ["Verification SMS arrives late", 1, 1],
    ]
