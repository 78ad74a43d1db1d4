"""The client's address: forwarded headers count only from the configured proxies, for every per-address limit,
for screening and for the event log."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from accounts.models import AccountEvent, Registration, RegistrationSignal
from saypro.clientip import ScopedRateThrottle, client_ip
from tests.accounts.helpers import SIGNUP

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"


def request_from(peer: str, forwarded: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=peer, **extra)


def test_without_a_proxy_the_peer_is_the_client_whatever_the_headers_claim(settings):
    settings.BEHIND_PROXY = 0
    assert client_ip(request_from("198.51.100.7", "203.0.113.9")) == "198.51.100.7"
    assert client_ip(request_from("198.51.100.7")) == "198.51.100.7"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "203.0.113.9", "203.0.113.9"),
        # The client prepended a claim of its own; the proxy appended what it saw.
        (1, "1.2.3.4, 203.0.113.9", "203.0.113.9"),
        (1, "1.2.3.4,203.0.113.9:51234", "203.0.113.9"),
        (1, "1.2.3.4, garbage, 203.0.113.9", "203.0.113.9"),
        (1, "2001:db8::1", "2001:db8::1"),
        # Two proxies: the first appended the client, the second (the peer) appended the first proxy.
        (2, "1.2.3.4, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        # Shorter than the chain, or garbage: nothing in it is vouched for, the peer is all that is known.
        (2, "203.0.113.9", PROXY),
        (1, "not-an-address", PROXY),
    ],
)
def test_behind_proxies_the_client_is_the_entry_the_last_trusted_proxy_appended(settings, proxies, forwarded, expected):
    settings.BEHIND_PROXY = proxies
    assert client_ip(request_from(PROXY, forwarded)) == expected


def test_the_api_throttle_counts_per_client_address():
    throttle = ScopedRateThrottle()
    assert throttle.get_ident(request_from("198.51.100.7", "203.0.113.9")) == "198.51.100.7"


def _signup(api: APIClient, n: int, forwarded: str, capture) -> None:
    body = {**SIGNUP, "email": f"applicant{n}@example.com", "phone": f"+2782555{n:04d}"}
    with capture(execute=True):
        response = api.post(
            "/api/v1/registrations/", body, format="json", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded
        )
    assert response.status_code == 202, response.content


def test_behind_the_proxy_api_sign_ups_keep_each_clients_address_and_velocity_flags_only_real_repeats(
    settings, django_capture_on_commit_callbacks
):
    settings.BEHIND_PROXY = 1
    api = APIClient()
    for n in range(4):
        _signup(api, n, f"6.6.6.{n}, 41.13.{n}.20", django_capture_on_commit_callbacks)
    assert sorted(Registration.objects.values_list("ip_address", flat=True)) == [f"41.13.{n}.20" for n in range(4)]
    assert not RegistrationSignal.objects.filter(code=RegistrationSignal.Code.IP_VELOCITY).exists()

    # The same client four times within the hour is a real repeat.
    for n in range(4, 8):
        _signup(api, n, f"7.7.7.{n}, 41.13.99.20", django_capture_on_commit_callbacks)
    flagged = RegistrationSignal.objects.filter(code=RegistrationSignal.Code.IP_VELOCITY)
    assert [s.registration.ip_address for s in flagged] == ["41.13.99.20"]


def test_behind_the_proxy_the_event_log_keeps_the_clients_address(settings, client):
    settings.BEHIND_PROXY = 1
    client.post(
        "/accounts/login/",
        {"username": "nobody@example.com", "password": "x"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="9.9.9.9, 41.13.7.7",
    )
    assert AccountEvent.objects.get(kind=AccountEvent.Kind.SIGN_IN_FAILED).ip_address == "41.13.7.7"


LIMITED = {
    "sign-up": (
        "registration",
        "/api/v1/registrations/",
        lambda n: {**SIGNUP, "email": f"applicant{n}@example.com", "phone": f"+2782555{n:04d}"},
    ),
    "token sign-in": ("registration", "/api/v1/auth/token/", lambda n: {"email": f"x{n}@example.com", "password": "x"}),
    "password reset": ("verification", "/api/v1/auth/password-reset/", lambda n: {"email": f"x{n}@example.com"}),
    "e-mail verification": ("verification", "/api/v1/registrations/verify-email/", lambda n: {"token": f"bad{n}"}),
    "guidance": ("support_guidance", "/api/v1/support/guidance/", lambda n: {"question": f"refund number {n}?"}),
}


@pytest.mark.parametrize("name", list(LIMITED))
def test_a_random_forwarded_for_does_not_dodge_a_per_address_limit(settings, monkeypatch, name):
    settings.BEHIND_PROXY = 0
    scope, path, body = LIMITED[name]
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, scope, "2/hour")
    api = APIClient()
    statuses = [
        api.post(
            path, body(n), format="json", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        ).status_code
        for n in range(3)
    ]
    assert statuses[:2] != [429, 429] and statuses[2] == 429, statuses


@pytest.mark.parametrize("name", list(LIMITED))
def test_behind_the_proxy_each_client_has_its_own_budget(settings, monkeypatch, name):
    settings.BEHIND_PROXY = 1
    scope, path, body = LIMITED[name]
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, scope, "2/hour")
    api = APIClient()
    for n in range(3):
        response = api.post(path, body(n), format="json", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        assert response.status_code != 429
    spoofed = api.post(path, body(9), format="json", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.0")
    assert spoofed.status_code != 429
    third = api.post(path, body(10), format="json", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="2.2.2.2, 203.0.113.0")
    assert third.status_code == 429
