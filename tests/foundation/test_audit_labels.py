"""Audit actions read as words wherever people see them: every action the code records has a label."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from marketplace.models import TransactionStatus
from moderation.models import Action
from saypro.audit.labels import action_label, labelled_actions
from saypro.audit.services import audit_record
from tests.factories import RegistrationFactory

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "messaging", "support", "moderation", "marketplace", "reports", "saypro")
# `action="x.y"`, and the alternatives of `action = "x.y" if … else "x.z"`.
RECORDED = re.compile(r'action\s*=\s*"([a-z_]+\.[a-z_]+)"(?:\s+if\s+[^\n]+?\s+else\s+"([a-z_]+\.[a-z_]+)")?')


def recorded_actions() -> set[str]:
    found: set[str] = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or path.name.startswith("demo"):
                continue
            for match in RECORDED.finditer(path.read_text()):
                found.update(group for group in match.groups() if group)
    return found


def test_every_action_the_code_records_has_a_label():
    recorded = recorded_actions()
    assert len(recorded) > 80
    # Recorded with the decision, status or account status in the name.
    recorded |= {f"case.{action}" for action in Action.values}
    recorded |= {f"transaction.{status}" for status in TransactionStatus.values}
    recorded |= {"account.suspended", "account.banned", "account.reinstated"}
    assert sorted(recorded - labelled_actions()) == []
    for action in recorded:
        label = action_label(action)
        assert "." not in label and "_" not in label, (action, label)


def test_an_action_no_app_names_still_reads_as_words():
    assert action_label("ticket.some_new_thing") == "some new thing"


@pytest.mark.django_db
def test_the_registration_history_shows_the_action_in_words(as_, reviewer):
    registration = RegistrationFactory()
    audit_record(actor=reviewer, action="registration.request_info", target=registration, reason="Which city?")
    page = as_("reviewer").get(f"/dashboard/registrations/{registration.pk}/").content.decode()
    assert "asked for more information" in page and "registration.request_info" not in page
