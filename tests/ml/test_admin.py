"""The classifiers' admin pages: each version with its training data, date, validation figures, thresholds, the
decisions it made and why it is (not) active; administrators only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from saypro.ml import services as ml
from saypro.ml.services import text_model_train

from .generated import topic_texts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    ml._loaded.clear()
    yield
    ml._loaded.clear()


def test_a_version_page_shows_its_data_figures_thresholds_decisions_and_why_it_is_inactive(client, administrator):
    texts, labels = topic_texts(600, seed=21)
    active = text_model_train(name="test.topics", texts=texts, labels=labels, folds=0, source="topics.csv")
    names = sorted(set(labels))
    noisy = [names[(names.index(label) + 1) % 3] if i % 3 == 0 else label for i, label in enumerate(labels)]
    worse = text_model_train(name="test.topics", texts=texts, labels=noisy, folds=0, only_if_not_worse=True)
    ml.task_register(ml.Task("test.topics", decisions=lambda version: {1: 42}.get(version, 0)))
    client.force_login(administrator)
    try:
        listing = client.get(reverse("admin:ml_textmodel_changelist"))
        assert listing.status_code == 200
        page = listing.content.decode()
        assert "test.topics" in page and "42" in page and "Not activated" in page

        response = client.get(reverse("admin:ml_textmodel_change", args=[active.pk]))
        assert response.status_code == 200
        page = response.content.decode()
        assert "topics.csv" in page and ml.SKLEARN_VERSION in page
        assert f"{active.validation['examples']:,}" in page and "precision ≥ 97%" in page
        assert f"{active.thresholds['auto']:.3f}" in page and "42" in page

        page = client.get(reverse("admin:ml_textmodel_change", args=[worse.pk])).content.decode()
        assert "Not activated" in page and f"active v{active.version}" in page
    finally:
        ml._tasks.pop("test.topics", None)


def test_other_staff_do_not_see_the_classifiers(client, agent):
    client.force_login(agent)
    assert client.get(reverse("admin:ml_textmodel_changelist")).status_code == 403
