"""The HTTP gateway SMS backend against a real HTTP server on the loopback interface."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from accounts import services
from accounts.models import RegistrationStatus
from accounts.sms import HttpGatewaySmsBackend, SmsUnavailable, get_backend
from tests.accounts.helpers import submitted

TOKEN = "gateway-token-123"


@dataclass
class Gateway:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 202


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        gateway = self.server.gateway
        gateway.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
        self.send_response(gateway.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    gateway: Gateway


@pytest.fixture
def gateway(settings) -> Iterator[Gateway]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.gateway = Gateway(url=f"http://127.0.0.1:{server.server_address[1]}/v1/messages")
    # shutdown() waits for the loop's next poll: a twentieth of a second instead of the default half.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    settings.SMS_BACKEND = "accounts.sms.HttpGatewaySmsBackend"
    settings.SMS_GATEWAY_URL = server.gateway.url
    settings.SMS_GATEWAY_TOKEN = TOKEN
    settings.SMS_GATEWAY_TIMEOUT = 5
    try:
        yield server.gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_gateway_receives_the_message_as_json_with_the_bearer_token(gateway):
    backend = get_backend()
    assert isinstance(backend, HttpGatewaySmsBackend)

    backend.send(to="+27825550101", body="Your SayPro code is 123456")

    [request] = gateway.requests
    assert request["path"] == "/v1/messages"
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["body"]) == {"to": "+27825550101", "body": "Your SayPro code is 123456"}


def test_a_gateway_error_answer_is_sms_unavailable(gateway):
    gateway.status = 503
    with pytest.raises(SmsUnavailable):
        get_backend().send(to="+27825550101", body="Your SayPro code is 123456")
    assert len(gateway.requests) == 1


@pytest.mark.django_db
def test_the_code_sent_through_the_gateway_verifies_the_phone(gateway, django_capture_on_commit_callbacks):
    registration = submitted()
    with django_capture_on_commit_callbacks(execute=True):
        services.phone_code_send(registration=registration)

    [request] = gateway.requests
    message = json.loads(request["body"])
    assert message["to"] == registration.phone_e164
    code = re.search(r"\b(\d{6})\b", message["body"])
    assert code is not None
    registration = services.phone_code_confirm(registration=registration, code=code.group(1))
    assert registration.phone_verified_at is not None
    assert registration.status == RegistrationStatus.VERIFYING  # waiting on the e-mail only, not sent to review
