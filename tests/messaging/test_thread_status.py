"""The thread page's panel about the user shows where the account really stands: active, suspended until a
time, banned or deactivated, with the reason the user was given."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone

from accounts.services import account_deactivate, user_ban, user_suspend
from tests.factories import PASSWORD
from tests.messaging.conftest import start

pytestmark = pytest.mark.django_db


def account_panel(client, agent, conversation) -> str:
    client.login(email=agent.email, password=PASSWORD)
    page = client.get(reverse("messaging:thread", args=[conversation.pk]))
    assert page.status_code == 200
    return page.content.decode().split('data-testid="account-status">')[1].split("</dd>")[0]


def test_an_active_account_shows_as_active(client, user, agent):
    conversation = start(user)
    panel = account_panel(client, agent, conversation)
    assert '<span class="pill pill-ok">active</span>' in panel and "until" not in panel


def test_a_suspended_account_shows_as_suspended_until_its_end_with_the_reason(client, user, agent, moderator):
    conversation = start(user)
    until = timezone.now() + timedelta(days=3)
    user_suspend(user=user, by=moderator, reason="Repeated scam listings", until=until)
    panel = account_panel(client, agent, conversation)
    assert '<span class="pill pill-bad">suspended</span>' in panel
    assert f"until {date_filter(timezone.localtime(until), 'j M Y, H:i')}" in panel
    assert "Repeated scam listings" in panel and "deactivated" not in panel


def test_a_suspension_that_has_run_out_shows_as_active_before_the_expiry_task_runs(client, user, agent, moderator):
    conversation = start(user)
    user_suspend(user=user, by=moderator, reason="Cooling off", until=timezone.now() + timedelta(hours=2))
    with time_machine.travel(timezone.now() + timedelta(hours=3)):
        panel = account_panel(client, agent, conversation)
    assert '<span class="pill pill-ok">active</span>' in panel
    assert "Cooling off" not in panel and "until" not in panel


def test_a_suspension_without_an_end_shows_no_end(client, user, agent, moderator):
    conversation = start(user)
    user_suspend(user=user, by=moderator, reason="Identity check pending")
    panel = account_panel(client, agent, conversation)
    assert '<span class="pill pill-bad">suspended</span>' in panel and "until" not in panel


def test_a_banned_account_shows_as_banned(client, user, agent, moderator):
    conversation = start(user)
    user_ban(user=user, by=moderator, reason="Fraud confirmed")
    panel = account_panel(client, agent, conversation)
    assert '<span class="pill pill-bad">banned</span>' in panel and "Fraud confirmed" in panel


def test_an_account_the_user_deactivated_shows_as_deactivated(client, user, agent):
    conversation = start(user)
    account_deactivate(user=user, reason="Taking a break")
    panel = account_panel(client, agent, conversation)
    assert '<span class="pill pill-bad">deactivated</span>' in panel
