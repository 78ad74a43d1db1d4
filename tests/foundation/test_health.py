"""/healthz: 200 "ok" when everything answers, 200 "degraded" without the broker, 503 "down" without the database."""

from __future__ import annotations

from tests.foundation.support import child_env, closed_port, probe_healthz


def test_healthz_is_ok_when_database_broker_and_cache_answer(client, db, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok", "cache": "ok"}}


def test_healthz_needs_no_login_sets_no_cookie_and_is_never_cached(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert not response.cookies
    assert "no-store" in response["Cache-Control"]


def test_healthz_refuses_other_methods(client, db):
    assert client.post("/healthz").status_code == 405


def test_healthz_is_degraded_when_the_broker_folder_is_missing(client, db, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "gone")}

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["broker"] == "down"


def test_healthz_is_degraded_when_redis_is_unreachable(tmp_path):
    env = child_env(tmp_path, REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0")

    result = probe_healthz(env)

    assert result["code"] == 200
    assert result["body"] == {"status": "degraded", "checks": {"database": "ok", "broker": "down", "cache": "down"}}


def test_healthz_is_down_with_503_when_the_database_is_unreachable(tmp_path):
    env = child_env(tmp_path, DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port()}/saypro")

    result = probe_healthz(env)

    assert result["code"] == 503
    assert result["body"]["status"] == "down"
    assert result["body"]["checks"]["database"] == "down"
