"""Drill: a Celery worker is killed with kill -9 in the middle of a backlog of after-commit tasks.

    .venv/bin/python bench/drills/worker_kill_backlog.py [--signups 60 --conversations 40 --listings 40]
        [--database saypro_tasks] [--visibility-timeout 300]

A scratch PostgreSQL database and a private Redis. With no worker running, sign-ups, conversations and listings
are accepted through the services, which queue their tasks (screening, acknowledgement and verification
e-mails, triage, detection) in Redis. A worker starts on the backlog and, once a share of the work is done,
the worker and its pool get SIGKILL: the tasks it had reserved stay in Redis's unacknowledged set. A new worker
takes the rest of the queue, and Redis hands the dead worker's reserved tasks out again once the visibility
timeout has passed. Beat does not run, so the reconciliation sweep does not help: this drill measures the
broker's redelivery alone. Prints attempted / done / lost / doubled.
"""

from __future__ import annotations

import argparse
import time

from stack import Stack, wait_until
from work import accept, tally


def unacked(url: str) -> int:
    import redis

    return int(redis.Redis.from_url(url).hlen("unacked"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signups", type=int, default=60)
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--listings", type=int, default=40)
    parser.add_argument("--kill-at", type=float, default=0.3, help="share of the items done when the kill comes")
    parser.add_argument("--database", default="saypro_tasks")
    parser.add_argument("--visibility-timeout", type=int, default=300, help="CELERY_VISIBILITY_TIMEOUT, seconds")
    args = parser.parse_args()

    settings = {"CELERY_VISIBILITY_TIMEOUT": str(args.visibility_timeout), "MODERATION_SPAM_CSV": ""}
    with Stack("worker_kill", database=args.database, **settings) as stack:
        stack.django()
        mail_dir = stack.var_dir / "mail"
        accepted = accept(signups=args.signups, conversations=args.conversations, listings=args.listings)
        queued = unacked(stack.redis.url), stack_queue_length(stack.redis.url)
        print(f"accepted {accepted.attempted} items; {queued[1]} tasks queued, no worker running")

        stack.start_worker()
        started = time.monotonic()
        wait_until(
            lambda: tally(accepted, mail_dir).done >= args.kill_at * accepted.attempted,
            timeout=600,
            interval=0.5,
            what="part of the backlog",
        )
        reserved = unacked(stack.redis.url)
        stack.kill("worker")
        killed_at = time.monotonic()
        at_kill = tally(accepted, mail_dir)
        print(
            f"kill -9 after {killed_at - started:.1f} s: {at_kill.line()}; "
            f"{reserved} task(s) reserved by the worker, {stack_queue_length(stack.redis.url)} still queued"
        )

        stack.start_worker("worker2")
        wait_until(
            lambda: tally(accepted, mail_dir).lost == 0,
            timeout=args.visibility_timeout + 600,
            interval=2,
            what="every item done",
        )
        recovered = time.monotonic() - killed_at
        time.sleep(15)  # anything delivered a second time would show now
        final = tally(accepted, mail_dir)
        print(f"all done {recovered:.1f} s after the kill (visibility timeout {args.visibility_timeout} s)")
        print(f"final: {final.line()}; unacknowledged left in Redis: {unacked(stack.redis.url)}")
        assert final.lost == 0 and final.doubled == 0, final
        print("PASS: nothing lost, nothing done twice")
    return 0


def stack_queue_length(url: str) -> int:
    import redis

    return int(redis.Redis.from_url(url).llen("celery"))


if __name__ == "__main__":
    raise SystemExit(main())
