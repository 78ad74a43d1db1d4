"""Drill: Redis restarts empty (a crash without persistence, a failover, a lost volume) while tasks wait.

    .venv/bin/python bench/drills/redis_restart_empty.py [--signups 5 --conversations 10 --listings 10]
        [--database saypro_tasks]

A scratch PostgreSQL database and a private Redis (no RDB, no AOF). Beat's reconciliation sweep has been
running (its first run is recorded). With no worker up, sign-ups, conversations and listings are accepted
through the services, which queue their 45 tasks (by default, as in the report that prompted this drill) in
Redis. Redis is then killed and started again, empty: every queued task is gone, and nothing went through
the outbox, since the broker took every publish. A worker and beat start. The reconciliation sweep finds
from the database each item whose follow-up did not happen within FOLLOWUP_GRACE_MINUTES (one minute here)
and hands it out again. Prints attempted / done / lost / doubled.
"""

from __future__ import annotations

import argparse
import time

from stack import Stack, wait_until
from work import accept, tally


def queued(url: str) -> int:
    import redis

    return int(redis.Redis.from_url(url).llen("celery"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signups", type=int, default=5)
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--listings", type=int, default=10)
    parser.add_argument("--database", default="saypro_tasks")
    args = parser.parse_args()

    settings = {"FOLLOWUP_GRACE_MINUTES": "1", "MODERATION_SPAM_CSV": ""}
    with Stack("redis_restart", database=args.database, **settings) as stack:
        stack.django()
        from saypro.outbox.followups import followups_reconcile
        from saypro.outbox.models import OutboxMessage

        followups_reconcile()  # beat has been running: the sweep's first run is on record
        mail_dir = stack.var_dir / "mail"
        accepted = accept(signups=args.signups, conversations=args.conversations, listings=args.listings)
        waiting = queued(stack.redis.url)
        print(f"accepted {accepted.attempted} items; {waiting} tasks queued in Redis, no worker running")

        stack.redis.stop()
        stack.redis.start()
        restarted = time.monotonic()
        print(
            f"Redis killed and started empty: {queued(stack.redis.url)} tasks queued, "
            f"{OutboxMessage.objects.count()} in the outbox; {tally(accepted, mail_dir).line()}"
        )

        stack.start_worker()
        stack.start_beat()
        wait_until(lambda: tally(accepted, mail_dir).lost == 0, timeout=900, interval=5, what="every item done")
        recovered = time.monotonic() - restarted
        time.sleep(20)  # anything handed out twice would show now
        final = tally(accepted, mail_dir)
        print(f"all done {recovered:.1f} s after Redis came back empty (beat's sweep every 5 minutes, grace 1 minute)")
        print(f"final: {final.line()}")
        assert final.lost == 0 and final.doubled == 0, final
        print("PASS: nothing lost, nothing done twice")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
