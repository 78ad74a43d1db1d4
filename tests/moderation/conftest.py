"""Fixtures of the moderation tests: sellers with and without the verified badge, the trained spam model."""

from __future__ import annotations

import pickle

import pytest
from django.utils import timezone

from saypro.ml import services as ml
from saypro.ml.models import TextModel
from tests.factories import UserFactory
from tests.ml.generated import spam_texts, write_csv


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    """Loaded classifiers are cached by (name, version); each test's database numbers its versions from 1."""
    ml._loaded.clear()
    yield
    ml._loaded.clear()


@pytest.fixture(scope="session")
def spam_csv(tmp_path_factory):
    """A labelled spam/ham file made up for the tests (400 messages, text and label columns)."""
    texts, labels = spam_texts(400, seed=2)
    return write_csv(tmp_path_factory.mktemp("spam") / "spam.csv", texts, labels)


@pytest.fixture(scope="session")
def _spam_pipeline_blob(spam_csv):
    texts, labels = ml.read_labelled_csv(spam_csv, label_column="label")
    return pickle.dumps(ml.build_pipeline().fit(texts, labels))


@pytest.fixture
def spam_model(db, _spam_pipeline_blob):
    """A spam classifier trained on generated messages (fitted once per test session), without thresholds of its
    own: detection applies its defaults."""
    return TextModel.objects.create(
        name="moderation.spam",
        version=1,
        trained_on=400,
        labels=["ham", "spam"],
        source="spam.csv",
        blob=_spam_pipeline_blob,
        sklearn_version=ml.SKLEARN_VERSION,
        is_active=True,
    )


@pytest.fixture
def seller(db):
    """A marketplace user without the verified badge (nothing verified)."""
    return UserFactory(email="seller@example.com", full_name="Sipho Ndlovu")


@pytest.fixture
def verified_seller(db):
    now = timezone.now()
    return UserFactory(
        email="verified@example.com", full_name="Lerato Mokoena", email_verified_at=now, phone_verified_at=now
    )


@pytest.fixture
def reporter(db):
    return UserFactory(email="reporter@example.com", full_name="Naledi Khumalo")


def flagged(*, reporter=None, hours_ago: float = 0, reason: str = "fraud", **listing_fields):
    """A listing with one user flag, flagged `hours_ago` hours ago; returns (listing, case)."""
    from datetime import timedelta

    import time_machine

    from moderation import services
    from moderation.models import Case
    from tests.factories import ListingFactory

    listing = ListingFactory(**listing_fields)
    with time_machine.travel(timezone.now() - timedelta(hours=hours_ago)):
        services.flag_create(
            reporter=reporter or UserFactory(), kind="listing", object_id=listing.pk, reason=reason, comment="Looks off"
        )
    return listing, Case.objects.get(object_id=listing.pk, kind="listing")
