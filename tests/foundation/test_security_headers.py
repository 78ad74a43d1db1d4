"""Security headers and cookies in production settings, and pages that keep to the script policy."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

from tests.foundation.support import ROOT, child_env, load_settings, run_python

# One child process collects the static files (production's manifest storage needs them to render a page) and
# makes the requests: each `django.setup()` costs seconds. The sign-in page reads no table, so the probe needs no
# migrated database; should it start to, the request fails loudly with "no such table".
PRODUCTION_PROBE = """
import json, django
django.setup()
from django.core.management import call_command
call_command("collectstatic", interactive=False, verbosity=0)
from django.test import Client
client = Client()
page = client.get("/accounts/login/", secure=True, HTTP_X_FORWARDED_PROTO="https")
plain = client.get("/accounts/login/")
print(json.dumps({
    "code": page.status_code,
    "headers": dict(page.headers),
    "cookies": {name: {"secure": bool(c["secure"]), "httponly": bool(c["httponly"]), "samesite": c["samesite"]}
                for name, c in page.cookies.items()},
    "plain_code": plain.status_code,
    "plain_location": plain.headers.get("Location", ""),
}))
"""


def production_env(tmp_path: Path) -> dict[str, str]:
    return child_env(
        tmp_path,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_BEHIND_PROXY="1",
    )


def test_production_responses_carry_hsts_csp_and_secure_cookies(tmp_path):
    result = run_python(PRODUCTION_PROBE, production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])

    assert probe["code"] == 200
    headers = {key.lower(): value for key, value in probe["headers"].items()}
    assert "max-age=31536000" in headers["strict-transport-security"]
    assert "includeSubDomains" in headers["strict-transport-security"]
    policy = headers["content-security-policy"]
    script_src = re.search(r"script-src ([^;]+)", policy).group(1)
    assert script_src.strip() == "'self'"
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    csrf = probe["cookies"]["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"
    # Plain HTTP is sent to HTTPS.
    assert probe["plain_code"] == 301
    assert probe["plain_location"].startswith("https://")


def test_the_session_cookie_is_secure_and_http_only_in_production(tmp_path):
    settings = load_settings(production_env(tmp_path))

    assert [settings["SESSION_COOKIE_SECURE"], settings["SESSION_COOKIE_HTTPONLY"], settings["CSRF_COOKIE_SECURE"]] == [
        True,
        True,
        True,
    ]


SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def test_no_template_has_an_inline_script_or_an_event_handler_attribute():
    """The policy allows scripts from our static files only; an inline one would silently not run."""
    offenders = []
    for template in sorted(ROOT.glob("**/templates/**/*.html")):
        if ".venv" in template.parts:
            continue
        text = template.read_text()
        for match in SCRIPT_TAG.finditer(text):
            attributes = match.group(1)
            if "src=" not in attributes and 'type="application/json"' not in attributes:
                offenders.append(f"{template.relative_to(ROOT)}: inline <script>")
        if EVENT_HANDLER.search(text):
            offenders.append(f"{template.relative_to(ROOT)}: on…= event handler attribute")
    assert offenders == []


def test_api_docs_load_their_start_up_script_from_a_url(client, db):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert not re.search(r"<script>\s*\S", html), "the docs page must not carry an inline script"
    script_url = re.search(r'<script src="([^"]*\?script[^"]*)"', html).group(1)
    assert client.get(script_url).status_code == 200
