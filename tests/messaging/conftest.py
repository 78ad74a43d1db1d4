"""Helpers for the messaging tests: conversations as users start them, with their after-commit work done."""

from __future__ import annotations

import pytest
from django.test import TestCase

from accounts.models import AgentProfile
from messaging import services
from messaging.models import Conversation, TeamMembership
from saypro.sla.models import Clock
from tests.factories import UserFactory


def start(user, body="Hello, how do I change the photos of my ad?", **options) -> Conversation:
    """A user-initiated conversation, triaged and routed (its after-commit tasks run)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        conversation = services.conversation_start(user=user, body=body, **options)
    conversation.refresh_from_db()
    return conversation


def clock(conversation, metric) -> Clock:
    """The newest clock of the metric on the conversation."""
    return Clock.objects.filter(metric=metric, target_id=conversation.pk).latest("started_at", "pk")


def on_team(user, team, **profile) -> None:
    TeamMembership.objects.get_or_create(team=team, user=user)
    AgentProfile.objects.update_or_create(user=user, defaults=profile)


@pytest.fixture(autouse=True)
def _rules_only_spam_detection(settings):
    """Moderation trains its spam model on first use (seconds per test); these tests run its rules alone."""
    settings.MODERATION_SPAM_CSV = ""


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    """Loaded classifiers are cached by (name, version); every test's rolled-back database reuses version 1."""
    from saypro.ml import services as ml

    ml._loaded.clear()
    yield
    ml._loaded.clear()


@pytest.fixture
def member(db):
    """A second marketplace user."""
    return UserFactory(email="other.member@example.com", full_name="Other Member")


def flush_committed_data() -> None:
    """After a module fixture that committed its rows: remove them, and put back the reference rows (policies,
    roles, calendars) that the data migrations insert and later tests expect."""
    from tests.conftest import restore_reference_data

    restore_reference_data()
