"""The developer tooling: `make run`'s steps, the process supervisor, container probes, documented settings."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType

import pytest

from tests.foundation.support import ROOT


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"scripts_{name}", ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_dry_run(target: str) -> list[str]:
    make = shutil.which("make")
    assert make, "make is required to build and test SayPro Ops"
    result = subprocess.run([make, "-n", target], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


def position(lines: list[str], fragment: str) -> int:
    return next(i for i, line in enumerate(lines) if fragment in line)


def test_make_run_migrates_syncs_roles_seeds_creates_staff_then_starts_everything():
    lines = make_dry_run("run")

    steps = [
        "manage.py migrate --noinput",
        "manage.py sync_roles",
        "manage.py seed_demo --users 2000 --seed 1 --if-empty",
        "manage.py ensure_staff",
        "scripts/run_dev.py --addr 127.0.0.1:8000",
    ]
    assert [position(lines, step) for step in steps] == sorted(position(lines, step) for step in steps)


def test_make_test_prepares_chromium_and_runs_pytest():
    lines = make_dry_run("test")

    assert position(lines, "scripts/ensure_chromium.sh") < position(lines, "/bin/pytest")


def sleeper(seconds: int = 60) -> list[str]:
    return [sys.executable, "-c", f"import time; print('up', flush=True); time.sleep({seconds})"]


def test_run_dev_stops_everything_when_one_process_exits(monkeypatch, capsys):
    run_dev = load_script("run_dev")
    monkeypatch.setattr(
        run_dev,
        "commands",
        lambda addr: {
            "web": sleeper(),
            "worker": [sys.executable, "-c", "print('worker failed', flush=True); raise SystemExit(3)"],
            "beat": sleeper(),
        },
    )

    assert run_dev.main([]) == 1

    out = capsys.readouterr().out
    assert "worker| worker failed" in out
    assert "worker exited with code 3; stopping the others" in out


def test_run_dev_stops_all_processes_on_sigterm(monkeypatch):
    run_dev = load_script("run_dev")
    started: list[int] = []
    real_popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        started.append(proc.pid)
        return proc

    monkeypatch.setattr(run_dev.subprocess, "Popen", recording_popen)
    monkeypatch.setattr(run_dev, "commands", lambda addr: {name: sleeper() for name in ("web", "worker", "beat")})
    previous = signal.getsignal(signal.SIGTERM)

    def terminate_once_started():
        # The handler is installed before the first process starts, so SIGTERM can come at any point after.
        while len(started) < 3:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_once_started, daemon=True).start()

    assert run_dev.main(["--addr", "127.0.0.1:0"]) == 0
    for pid in started:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert signal.getsignal(signal.SIGTERM) is previous


def test_make_install_shows_pip_progress_instead_of_minutes_of_silence():
    installs = [
        line
        for target in ("install", "install-dev")
        for line in subprocess.run(
            ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.splitlines()
        if "pip install" in line and " -r requirements" in line
    ]

    assert len(installs) == 2
    for line in installs:
        assert "--quiet" not in line.split() and "-q" not in line.split()
        assert "--progress-bar on" in line


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def web_server(port: int, delay: float) -> list[str]:
    """A stand-in web process that starts answering /healthz only after `delay` seconds, as runserver does."""
    code = f"""
import http.server, time
time.sleep({delay})
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
print("web listening", flush=True)
http.server.HTTPServer(("127.0.0.1", {port}), Health).serve_forever()
"""
    return [sys.executable, "-c", code]


def stop_when(text: str, capsys, timeout: float = 60.0) -> threading.Thread:
    seen: list[str] = []

    def watch():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen.append(capsys.readouterr().out)
            if text in "".join(seen):
                break
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    thread.seen = seen  # type: ignore[attr-defined]
    return thread


def test_run_dev_prints_the_sign_in_address_and_the_staff_logins_once_the_web_server_answers(monkeypatch, capsys):
    run_dev = load_script("run_dev")
    port = free_port()
    monkeypatch.setattr(
        run_dev, "commands", lambda addr: {"web": web_server(port, delay=1.0), "worker": sleeper(), "beat": sleeper()}
    )
    monkeypatch.delenv("SAYPRO_DEMO_PASSWORD", raising=False)
    watcher = stop_when("manager@saypro.example", capsys)

    assert run_dev.main(["--addr", f"0.0.0.0:{port}"]) == 0

    watcher.join()
    out = "".join(watcher.seen) + capsys.readouterr().out
    ready = out.index(f"Sign in at http://127.0.0.1:{port}/accounts/login/")
    # Only after the web server came up, and with every demo login from ensure_staff and the password.
    assert out.index("web   | web listening") < ready
    for login in ("admin@", "reviewer@", "agent@", "moderator@", "manager@"):
        assert out.index(f"{login}saypro.example", ready) > ready
    assert "saypro-demo-2026" in out[ready:]


def test_run_dev_prints_no_sign_in_address_while_the_web_server_does_not_answer(monkeypatch, capsys):
    run_dev = load_script("run_dev")
    port = free_port()
    monkeypatch.setattr(
        run_dev,
        "commands",
        lambda addr: {
            "web": sleeper(),
            # Long enough for several of run_dev's half-second polls of the web server.
            "worker": [sys.executable, "-c", "import time; time.sleep(1.5); raise SystemExit(3)"],
            "beat": sleeper(),
        },
    )

    assert run_dev.main(["--addr", f"127.0.0.1:{port}"]) == 1

    out = capsys.readouterr().out
    assert "worker exited with code 3" in out
    assert "Sign in at" not in out


def test_run_dev_opens_a_server_on_every_interface_at_the_loopback():
    run_dev = load_script("run_dev")

    assert run_dev.local_base("0.0.0.0:8080") == "http://127.0.0.1:8080"
    assert run_dev.local_base("127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert run_dev.local_base("192.168.1.5:8000") == "http://192.168.1.5:8000"


def write_schedule(var_dir: Path, age_seconds: float) -> None:
    schedule = var_dir / "celerybeat-schedule.db"
    schedule.write_bytes(b"")
    stamp = time.time() - age_seconds
    os.utime(schedule, (stamp, stamp))


def run_healthcheck(kind: str, var_dir: Path) -> int:
    env = {**os.environ, "SAYPRO_VAR_DIR": str(var_dir)}
    return subprocess.run(
        [sys.executable, "scripts/healthcheck.py", kind], cwd=ROOT, env=env, capture_output=True, check=False
    ).returncode


def test_beat_probe_is_healthy_while_the_schedule_file_is_fresh(tmp_path):
    write_schedule(tmp_path, age_seconds=30)

    assert run_healthcheck("beat", tmp_path) == 0


def test_beat_probe_is_unhealthy_when_the_schedule_file_is_stale_or_missing(tmp_path):
    assert run_healthcheck("beat", tmp_path) == 1

    write_schedule(tmp_path, age_seconds=3600)

    assert run_healthcheck("beat", tmp_path) == 1


def test_gunicorn_workers_follow_the_cores_unless_web_concurrency_is_set(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    assert load_script("gunicorn_config").workers == 2 * len(os.sched_getaffinity(0)) + 1

    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert load_script("gunicorn_config").workers == 3


def test_every_environment_variable_the_settings_read_is_documented_in_the_readme():
    source = (ROOT / "saypro" / "settings.py").read_text()
    read = set(re.findall(r"""(?:env_\w+|os\.environ\.get)\(\s*["']([A-Z][A-Z0-9_]+)["']""", source))
    readme = (ROOT / "README.md").read_text()

    assert read, "no environment variables found in settings.py"
    assert {name for name in read if f"`{name}`" not in readme} == set()


def test_gunicorn_lets_a_long_query_string_reach_the_app():
    # So that a long cursor or search is refused by the app in the API's error shape, not by gunicorn's own page.
    assert load_script("gunicorn_config").limit_request_line == 8190


def test_gunicorn_recycles_a_worker_by_forking_the_loaded_project():
    assert load_script("gunicorn_config").preload_app is True


def test_make_lint_checks_the_import_layers():
    assert any("lint-imports" in line for line in make_dry_run("lint"))


def test_an_import_across_the_layers_breaks_a_contract(tmp_path):
    """A copy of the project with accounts importing messaging: lint-imports names the broken contract."""
    for package in ("saypro", "accounts", "marketplace", "messaging", "support", "moderation", "reports", "demo"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    lint_imports = Path(sys.executable).parent / "lint-imports"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}

    kept = subprocess.run([lint_imports], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert kept.returncode == 0, kept.stdout
    (tmp_path / "accounts" / "shortcut.py").write_text("from messaging import services  # noqa\n")
    broken = subprocess.run([lint_imports], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert broken.returncode != 0
    assert "Accounts import no other app BROKEN" in broken.stdout
    assert "accounts.shortcut -> messaging" in broken.stdout

    # The demo may use every app, but no app may use the demo.
    (tmp_path / "accounts" / "shortcut.py").unlink()
    (tmp_path / "support" / "samples.py").write_text("from demo import core  # noqa\n")
    broken = subprocess.run([lint_imports], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert broken.returncode != 0
    assert "Nothing imports demo (the demo data generator may use every app) BROKEN" in broken.stdout
    assert "support.samples -> demo" in broken.stdout


def test_run_dev_serves_live_chat_from_one_daphne_process_on_the_port_after_the_web_servers():
    run_dev = load_script("run_dev")
    web_port = free_port() - 1
    chat = run_dev.commands(f"127.0.0.1:{web_port}")["chat"]
    assert chat[1:3] == ["-m", "daphne"] and chat[-3:] == ["-p", str(web_port + 1), "saypro.asgi:application"]
    # The chat panel's pages, served on the web port, open their sockets on daphne's.
    assert run_dev.chat_socket_url(f"0.0.0.0:{web_port}") == f"ws://127.0.0.1:{web_port + 1}"
    # The real command starts and the ASGI application answers (its HTTP side is Django's).
    proc = subprocess.Popen(
        chat, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while not run_dev.web_answers(f"http://127.0.0.1:{web_port + 1}"):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
