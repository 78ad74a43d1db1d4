"""Audit actions in words: "approved", not `registration.approve`.

Each app names its actions on its AppConfig as `audit_labels = {"registration.approve": "approved", …}` (as it lists
its role permissions), so an app brings its words with its actions. A label is a past-tense phrase that reads after
the actor's name ("Thandi Mokoena approved"); an action no app names reads as its last part in plain words.
"""

from __future__ import annotations

from functools import cache

from django.apps import apps


@cache
def _labels() -> dict[str, str]:
    labels: dict[str, str] = {}
    for config in apps.get_app_configs():
        labels.update(getattr(config, "audit_labels", {}))
    return labels


def action_label(action: str) -> str:
    return _labels().get(action) or action.rpartition(".")[2].replace("_", " ")


def labelled_actions() -> frozenset[str]:
    return frozenset(_labels())
