"""Run the web server, the live-chat WebSocket server, a Celery worker and Celery beat together, as `make run` does.

Each process's output is shown line by line behind its name. Ctrl-C (or SIGTERM) stops them all, and so
does any one of them exiting: a product without its worker or its beat would silently miss its deadlines.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
STOP_GRACE_SECONDS = 15.0
READY_POLL_SECONDS = 0.5


def chat_addr(addr: str) -> tuple[str, int]:
    """Live chat's WebSockets are served on the port after the web server's."""
    host, _, port = addr.rpartition(":")
    return host or "127.0.0.1", int(port) + 1


def commands(addr: str) -> dict[str, list[str]]:
    python = sys.executable
    chat_host, chat_port = chat_addr(addr)
    return {
        "web": [python, "manage.py", "runserver", "--noreload", addr],
        # One daphne process: without Redis the channel layer lives in memory and reaches only its own process.
        "chat": [python, "-m", "daphne", "-b", chat_host, "-p", str(chat_port), "saypro.asgi:application"],
        "worker": [python, "-m", "celery", "-A", "saypro", "worker", "-l", "info", "--concurrency", "2"],
        "beat": [python, "-m", "celery", "-A", "saypro", "beat", "-l", "info"],
    }


def logins_command() -> list[str]:
    # The logins live in one place, the command that creates them; `--list` prints them and touches nothing.
    return [sys.executable, "manage.py", "ensure_staff", "--list"]


def local_base(addr: str) -> str:
    """The address to open in a browser: a server listening on every interface is reached on the loopback."""
    host, _, port = addr.rpartition(":")
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def chat_socket_url(addr: str) -> str:
    """Where the browser reaches daphne: the chat panel's pages are served by the web server, a port below."""
    host, _, port = local_base(addr).removeprefix("http://").rpartition(":")
    return f"ws://{host}:{int(port) + 1}"


def web_answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=2):
            return True
    except urllib.error.HTTPError:
        # 503 (the database is down) is still the web server answering: it is up, and /healthz says what is wrong.
        return True
    except (urllib.error.URLError, OSError):
        return False


def announce_when_ready(base: str, stopping: threading.Event, lock: threading.Lock, env: dict[str, str]) -> None:
    """Once the web server answers, print where to sign in and with which logins, after the start-up noise."""
    while not web_answers(base):
        if stopping.wait(READY_POLL_SECONDS):
            return
    listed = subprocess.run(
        logins_command(), cwd=ROOT, env=env, capture_output=True, text=True, errors="replace", check=False
    )
    if listed.returncode == 0:
        logins = listed.stdout
    else:
        logins = f"(could not list the staff logins: {listed.stderr.strip()[-500:]})\n"
    with lock:
        print(f"\nSayPro Ops is ready. Sign in at {base}/accounts/login/", flush=True)
        print(logins, end="" if logins.endswith("\n") else "\n", flush=True)


def relay(name: str, stream: IO[str], lock: threading.Lock) -> None:
    for line in iter(stream.readline, ""):
        with lock:
            sys.stdout.write(f"{name:<6}| {line}")
            sys.stdout.flush()
    stream.close()


def stop_all(processes: dict[str, subprocess.Popen[str]]) -> None:
    for proc in processes.values():
        if proc.poll() is None:
            proc.terminate()
    for name, proc in processes.items():
        try:
            proc.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop within {STOP_GRACE_SECONDS:.0f} s; killing it", flush=True)
            # The worker's pool processes share its process group: take them down with it.
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--addr", default="127.0.0.1:8000", help="address of the web server (host:port)")
    args = parser.parse_args(argv)

    stopping = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stopping.set()

    previous_handlers = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("SUPPORT_CHAT_SOCKET_URL", chat_socket_url(args.addr))
    lock = threading.Lock()
    processes: dict[str, subprocess.Popen[str]] = {}
    relays: list[threading.Thread] = []
    exit_code = 0
    try:
        for name, command in commands(args.addr).items():
            # A session of its own keeps the terminal's Ctrl-C from reaching the children directly: each gets one
            # SIGTERM from here, since a second signal turns Celery's warm shutdown into a cold one.
            proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                start_new_session=True,
            )
            processes[name] = proc
            assert proc.stdout is not None
            thread = threading.Thread(target=relay, args=(name, proc.stdout, lock), daemon=True)
            thread.start()
            relays.append(thread)
        with lock:
            print(f"SayPro Ops: http://{args.addr}/  (web, worker and beat; Ctrl-C stops all three)", flush=True)
        threading.Thread(
            target=announce_when_ready, args=(local_base(args.addr), stopping, lock, env), daemon=True
        ).start()

        while not stopping.wait(0.5):
            exited = {name: proc.returncode for name, proc in processes.items() if proc.poll() is not None}
            if exited:
                for name, code in exited.items():
                    with lock:
                        print(f"{name} exited with code {code}; stopping the others", flush=True)
                exit_code = 1
                break
    finally:
        stopping.set()
        stop_all(processes)
        for thread in relays:
            thread.join(timeout=2)
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
