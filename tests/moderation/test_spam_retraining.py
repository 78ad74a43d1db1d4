"""The spam classifier learns from what moderators decided: which decisions become examples, with which label,
and when the weekly retraining trains (and activates) a new version."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from celery.schedules import crontab
from django.utils import timezone

from moderation import services
from moderation.models import Case
from moderation.spam import MODEL_NAME, decision_examples
from moderation.tasks import RETRAIN_MIN_NEW_DECISIONS, spam_model_retrain
from saypro.celery import app
from saypro.ml.models import TextModel
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _decisions_only(settings):
    """Train on the moderators' decisions alone, so that each example's effect is visible and training is quick."""
    settings.MODERATION_SPAM_CSV = ""


def decided(moderator, text: str, action: str, rule: str = "") -> Case:
    listing = ListingFactory(title=text, description=f"{text}, details inside")
    services.flag_create(reporter=UserFactory(), kind="listing", object_id=listing.pk, reason="spam", comment="")
    case = Case.objects.get(object_id=listing.pk, kind="listing")
    services.case_decide(case=case, by=moderator, action=action, rule=rule, reason="Checked.")
    case.refresh_from_db()
    return case


def test_kept_and_reversed_decisions_are_ham_spam_removals_spam_and_other_rules_left_out(moderator):
    second = UserFactory(email="second@saypro.example", roles=["Moderator"])
    kept = decided(moderator, "Kept bicycle", "keep")
    spam = decided(moderator, "Spam flyer", "remove", "spam")
    scam = decided(moderator, "Scam phone", "remove_warn", "scam")
    off_platform = decided(moderator, "Pay me on WhatsApp", "suspend_user", "off_platform")
    prohibited = decided(moderator, "Prohibited knife", "remove", "prohibited")
    reversed_spam = decided(moderator, "Reversed spam", "remove", "spam")
    reversed_misleading = decided(moderator, "Reversed misleading", "remove", "misleading")
    for case in (reversed_spam, reversed_misleading):
        appeal = services.appeal_file(case=case, by=case.author, statement="It is genuine.")
        services.appeal_decide(appeal=appeal, by=second, reverse=True, reason="It is genuine.")

    texts, labels = decision_examples()

    assert dict(zip(texts, labels, strict=True)) == {
        kept.content_text: "ham",
        spam.content_text: "spam",
        scam.content_text: "spam",
        off_platform.content_text: "spam",
        reversed_spam.content_text: "ham",
        reversed_misleading.content_text: "ham",
    }
    assert len(texts) == 6 and prohibited.content_text not in texts


def decide_many(moderator, count: int) -> None:
    """`count` decisions, every other one a kept listing and the rest removals for spam."""
    for n in range(count):
        if n % 2:
            decided(moderator, f"Spam offer {n} cheap loans click now", "remove", "spam")
        else:
            decided(moderator, f"Used sofa {n} in good condition", "keep")


def test_below_the_threshold_of_new_decisions_nothing_is_trained_and_from_it_a_new_version_becomes_active(moderator):
    with time_machine.travel(timezone.now() - timedelta(days=7), tick=False) as clock:
        decide_many(moderator, RETRAIN_MIN_NEW_DECISIONS - 1)
        assert spam_model_retrain() is None
        assert not TextModel.objects.filter(name=MODEL_NAME).exists()
        decide_many(moderator, 1)
        clock.shift(timedelta(minutes=1))
        assert spam_model_retrain() == 1

        # Only the decisions taken since the active version was trained count towards the next one.
        clock.shift(timedelta(minutes=1))
        decide_many(moderator, RETRAIN_MIN_NEW_DECISIONS - 1)
        assert spam_model_retrain() is None
        assert list(TextModel.objects.filter(name=MODEL_NAME).values_list("version", "is_active")) == [(1, True)]
        decide_many(moderator, 1)
        clock.shift(timedelta(minutes=1))
        assert spam_model_retrain() == 2

    models = {m.version: m for m in TextModel.objects.filter(name=MODEL_NAME)}
    assert (models[1].is_active, models[2].is_active) == (False, True)
    assert models[2].trained_on == 2 * RETRAIN_MIN_NEW_DECISIONS and models[2].labels == ["ham", "spam"]
    assert models[2].source == f"{2 * RETRAIN_MIN_NEW_DECISIONS} moderation decisions"
    assert spam_model_retrain() is None  # nothing new since version 2


def test_retraining_is_scheduled_weekly():
    entry = app.conf.beat_schedule["moderation-spam-retrain"]
    assert entry["task"] == "moderation.tasks.spam_model_retrain"
    assert isinstance(entry["schedule"], crontab) and len(entry["schedule"].day_of_week) == 1


def test_the_command_reports_the_thresholds_chosen_on_the_validation_set(spam_csv):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("train_spam_model", "--csv", str(spam_csv), "--no-decisions", "--folds", "0", stdout=out)
    model = TextModel.objects.get(name=MODEL_NAME, is_active=True)
    assert f"review P(spam) ≥ {model.thresholds['review']:.3f}" in out.getvalue()
    assert f"auto-hide P(spam) ≥ {model.thresholds['auto']:.3f}" in out.getvalue()


def test_the_keywords_page_shows_where_the_classifier_opens_cases_and_hides(client, moderator, spam_csv):
    from django.urls import reverse

    from moderation.spam import spam_model_train

    model = spam_model_train(csv=spam_csv, with_decisions=False, folds=0)
    client.force_login(moderator)
    page = client.get(reverse("moderation:keywords")).content.decode()
    assert "Opens a case" in page and "Hides" in page
    assert f"{model.thresholds['auto']:.3f}" in page and f"{model.thresholds['review']:.3f}" in page
