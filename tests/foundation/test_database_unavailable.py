"""With the database unreachable (a restart, a failover), requests get a 503 to retry, never a 500 or a hang."""

from __future__ import annotations

import json
import secrets

from tests.foundation.support import child_env, closed_port, run_python

# Production's manifest storage needs collected static files to render the error page: collected in the same child
# process as the requests, since each `django.setup()` costs seconds. collectstatic touches no database.
PROBE = """
import json, django
django.setup()
from django.core.management import call_command
call_command("collectstatic", interactive=False, verbosity=0)
from django.test import Client
client = Client(raise_request_exception=False)
out = {}
for name, path in [("api", "/api/v1/registrations/me/"), ("page", "/help/")]:
    response = client.get(path, HTTP_AUTHORIZATION="Token 0123456789abcdef" if name == "api" else "")
    out[name] = {
        "code": response.status_code,
        "retry_after": response.headers.get("Retry-After"),
        "type": response.headers.get("Content-Type", ""),
        "body": response.content.decode()[:2000],
    }
print(json.dumps(out))
"""


def test_an_unreachable_database_gives_a_503_with_retry_after_on_pages_and_the_api(tmp_path):
    env = child_env(
        tmp_path,
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port()}/saypro",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_SECURE_SSL_REDIRECT="0",
    )
    result = run_python(PROBE, env)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])

    for name in ("api", "page"):
        assert probe[name]["code"] == 503, (name, probe[name])
        assert probe[name]["retry_after"] == "5"
    api = json.loads(probe["api"]["body"])
    assert api["error"]["code"] == "unavailable"
    assert "Back in a moment" in probe["page"]["body"]
