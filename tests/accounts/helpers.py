from __future__ import annotations

from django.test import TestCase

from accounts import services
from accounts.models import Registration

SIGNUP = {
    "email": "thandi.nkosi@example.com",
    "password": "a-long-and-unusual-passphrase",
    "full_name": "Thandi Nkosi",
    "phone": "+27 82 555 0101",
    "country": "ZA",
    "region": "Gauteng",
    "language": "en",
    "age_band": "25-34",
    "accepted_terms": True,
}


def signup(**overrides) -> Registration:
    values = {**SIGNUP, **overrides}
    values.setdefault("ip", "203.0.113.10")
    values.setdefault("form_seconds", 42.0)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.registration_start(**values)


def submitted(**overrides) -> Registration:
    """A submitted registration, with its after-commit work (e-mails, screening) already done."""
    registration = signup(**overrides)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.registration_submit(registration=registration)
