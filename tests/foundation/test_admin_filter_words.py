"""Words, not codes, in the admin's list filters: each filter offers people the words for the codes stored."""

from __future__ import annotations

import re

import pytest

from accounts.events import Client, event_record
from accounts.models import AccountEvent
from accounts.security import suspicious_record
from saypro.audit.services import audit_record
from saypro.sla.models import Policy
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@saypro.example", is_staff=True, is_superuser=True)


def filter_choices(html: str) -> dict[str, list[str]]:
    """The admin's filter sidebar as {filter title: the choices' link texts}."""
    sidebar = html[html.index('id="changelist-filter"') :]
    found: dict[str, list[str]] = {}
    for title, body in re.findall(r'data-filter-title="([^"]+)".*?<ul>(.*?)</ul>', sidebar, re.S):
        found[title] = [text.strip() for text in re.findall(r"<a [^>]*>([^<]*)</a>", body)]
    return found


def test_the_account_event_filters_list_reasons_and_channels_in_words(client, superuser, user):
    event_record(user=user, kind=AccountEvent.Kind.SIGN_IN_FAILED, reason="wrong_password")
    event_record(user=user, kind=AccountEvent.Kind.SIGN_IN_FAILED, reason="bad_second_factor")
    event_record(user=user, kind=AccountEvent.Kind.SIGN_IN, reason="totp", client=Client(channel="web"))
    client.force_login(superuser)

    page = client.get("/admin/accounts/accountevent/").content.decode()
    choices = filter_choices(page)
    assert {"Wrong password", "Wrong two-factor code", "with an authenticator app"} <= set(choices["reason"])
    assert {"Web site", "System"} <= set(choices["channel"])
    shown = " ".join(text for texts in choices.values() for text in texts)
    assert "wrong_password" not in shown and "bad_second_factor" not in shown and "totp" not in shown

    filtered = client.get("/admin/accounts/accountevent/?reason=wrong_password").content.decode()
    assert filtered.count('class="field-reason_words"') == 1
    assert "Wrong password" in filtered


def test_the_suspicious_activity_filter_lists_reasons_in_words(client, superuser, user):
    suspicious_record(user=user, reason="new_device", client=Client(channel="web"))
    client.force_login(superuser)
    choices = filter_choices(client.get("/admin/accounts/suspiciousevent/").content.decode())
    assert choices["reason"] == ["All", "Sign-in from a new device"]


def test_audit_actions_promises_and_countries_are_filtered_by_their_words(client, superuser, user):
    audit_record(actor=superuser, action="registration.approve", target=user, reason="ok")
    user.country = "ZA"
    user.save(update_fields=["country"])
    client.force_login(superuser)

    actions = filter_choices(client.get("/admin/audit/auditentry/").content.decode())["action"]
    assert "approved" in actions and "registration.approve" not in actions

    promises = filter_choices(client.get("/admin/sla/policy/").content.decode())["promise"]
    assert "Registrations decided within 48 h of review time" in promises
    assert not [text for text in promises if "." in text], promises
    listed = client.get("/admin/sla/policy/?metric=registration.approval").content.decode()
    assert listed.count('class="field-promise"') == Policy.objects.filter(metric="registration.approval").count()

    countries = filter_choices(client.get("/admin/accounts/user/").content.decode())["country"]
    assert "South Africa" in countries and "ZA" not in countries
