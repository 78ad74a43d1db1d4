"""Gunicorn settings of the web container (`gunicorn --config scripts/gunicorn_config.py saypro.wsgi`)."""

from __future__ import annotations

import os

bind = "0.0.0.0:8000"
# Sized to the cores this container may use (its CPU set, not the host's count); WEB_CONCURRENCY overrides.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * len(os.sched_getaffinity(0)) + 1)
timeout = 60
graceful_timeout = 30
# Recycling workers now and then bounds the damage of a slow leak; the jitter keeps them from restarting together.
max_requests = 2000
max_requests_jitter = 200
# Django and its apps are imported once, in the master, before the workers fork: a recycled worker is a fork
# instead of a fresh start that spent seconds of CPU importing everything again (stalls under load). Connections
# are opened lazily, per worker, after the fork.
preload_app = True
# Heartbeat files on tmpfs: a container's overlay file system can stall them and get workers killed.
worker_tmp_dir = "/dev/shm"
accesslog = "-"
errorlog = "-"
# A request line up to gunicorn's largest limit (its default is 4094): a long query string (a garbled cursor, a
# search pasted whole) reaches the app, which answers in the API's error shape rather than with gunicorn's page.
limit_request_line = 8190
