"""docker-compose.yml and the Dockerfile describe a working production stack (no Docker engine runs here)."""

from __future__ import annotations

import re
import shlex

import pytest
import yaml

from tests.foundation.support import ROOT

APP_SERVICES = ("migrate", "web", "chat", "worker", "beat")
LONG_RUNNING = ("postgres", "redis", "web", "chat", "worker", "beat")


@pytest.fixture(scope="module")
def services() -> dict:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose["services"]


def command_of(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else shlex.join(command)


def healthcheck_of(service: dict) -> str:
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(test)


def test_compose_has_the_databases_a_migration_and_the_three_processes(services):
    assert set(services) == {"postgres", "redis", "migrate", "web", "chat", "worker", "beat"}
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    for name in APP_SERVICES:
        assert services[name]["build"] == "."


def test_each_process_runs_the_right_command(services):
    assert "manage.py migrate --noinput" in command_of(services["migrate"])
    assert "manage.py sync_roles" in command_of(services["migrate"])
    assert re.match(r"gunicorn .*saypro\.wsgi", command_of(services["web"]))
    assert re.match(r"daphne .*saypro\.asgi:application", command_of(services["chat"]))
    assert command_of(services["worker"]).startswith("celery -A saypro worker")
    assert command_of(services["beat"]).startswith("celery -A saypro beat")


def test_every_long_running_service_has_a_health_check(services):
    for name in LONG_RUNNING:
        assert services[name]["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}, name
    assert "pg_isready" in healthcheck_of(services["postgres"])
    assert "redis-cli ping" in healthcheck_of(services["redis"])
    assert "healthcheck.py web" in healthcheck_of(services["web"])
    assert "healthcheck.py chat" in healthcheck_of(services["chat"])
    assert "celery -A saypro inspect ping" in healthcheck_of(services["worker"])
    assert "healthcheck.py beat" in healthcheck_of(services["beat"])
    assert "healthcheck" not in services["migrate"]


def test_processes_start_only_after_healthy_databases_and_a_finished_migration(services):
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "chat", "worker", "beat"):
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }, name


def test_app_services_run_in_production_mode_on_postgres_and_redis(services):
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["DJANGO_DEBUG"] == "0"
        assert env["DATABASE_URL"].startswith("postgres://saypro:") and "@postgres:5432/saypro" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        # No key is baked into the file: compose refuses to start without one.
        assert env["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")
        for variable in ("DJANGO_ALLOWED_HOSTS", "EMAIL_URL", "SAYPRO_SITE_URL", "DJANGO_BEHIND_PROXY"):
            assert variable in env, (name, variable)


def test_web_publishes_port_8000_and_data_lives_in_volumes(services):
    assert services["web"]["ports"] == ["8000:8000"]
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    for name in APP_SERVICES:
        assert "media:/data/media" in services[name]["volumes"]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [
        (word.upper(), rest.strip()) for word, _, rest in (line.partition(" ") for line in joined.splitlines()) if word
    ]


def test_dockerfile_builds_a_slim_non_root_gunicorn_image():
    instructions = dockerfile_instructions()
    by_word: dict[str, list[str]] = {}
    for word, rest in instructions:
        by_word.setdefault(word, []).append(rest)

    assert by_word["FROM"] == ["python:3.11-slim"]
    assert by_word["USER"] == ["saypro"]
    assert "ENTRYPOINT" not in by_word
    assert by_word["CMD"] == ['["gunicorn", "--config", "scripts/gunicorn_config.py", "saypro.wsgi"]']
    assert by_word["EXPOSE"] == ["8000"]
    assert any("pip install -r requirements.txt" in rest for rest in by_word["RUN"])
    assert any("collectstatic --noinput" in rest for rest in by_word["RUN"])
    # Everything after USER runs unprivileged: no RUN may follow it.
    words = [word for word, _ in instructions]
    assert "RUN" not in words[words.index("USER") :]


def test_the_image_leaves_out_local_state_and_secrets():
    ignored = set((ROOT / ".dockerignore").read_text().split())

    assert {".git", ".venv", "var", "tests"} <= ignored
