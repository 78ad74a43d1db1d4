"""The Celery app and the one beat schedule of the project."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import task_postrun, task_prerun

from saypro import replica

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saypro.settings")

# Every task publishes through the outbox fallback: a broker outage delays work instead of losing it.
app = Celery("saypro", task_cls="saypro.outbox.base:OutboxTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Reports and rollups read from the streaming replica when there is one (saypro.replica).
task_prerun.connect(replica.task_started, weak=False)
task_postrun.connect(replica.task_finished, weak=False)

app.conf.beat_schedule = {
    "sla-sweep": {"task": "saypro.sla.tasks.sweep", "schedule": 60.0},
    "outbox-drain": {"task": "saypro.outbox.tasks.drain", "schedule": 60.0},
    # Work whose task was lost (a killed worker, Redis restarted empty) is found from the database and handed
    # out again; failed e-mails are sent again with a growing pause.
    "outbox-reconcile": {"task": "saypro.outbox.tasks.reconcile", "schedule": crontab(minute="*/5")},
    "outbox-mail-retry": {"task": "saypro.outbox.tasks.mail_retry", "schedule": crontab(minute="*/5")},
    # Personal data past its retention period is purged nightly, in the quiet hours.
    "retention-purge": {"task": "saypro.retention.tasks.purge", "schedule": crontab(minute=30, hour=2)},
    "registrations-verification-grace": {
        "task": "accounts.tasks.registrations_escalate_unverified",
        "schedule": crontab(minute="*/10"),
    },
    # Reports: rollups every 15 minutes; scheduled reports checked hourly (they start from 06:00 local time).
    "reports-rollups-refresh": {"task": "reports.tasks.rollups_refresh", "schedule": crontab(minute="*/15")},
    "reports-scheduled": {"task": "reports.tasks.scheduled_reports", "schedule": crontab(minute=5)},
    "reports-runs-recover": {"task": "reports.tasks.runs_recover", "schedule": crontab(minute="*/5")},
    # Staffing: each queue's forecast against the shifts, every quarter hour, so that the managers on duty hear of
    # a deadline the queue will miss before the next shift while there is still time to act.
    "reports-staffing-check": {"task": "reports.tasks.staffing_check", "schedule": crontab(minute="*/15")},
    # Support: solved tickets close once the requester can no longer reopen them (SUPPORT_REOPEN_DAYS); the
    # triage classifier is refitted weekly with agents' transfers once enough are new.
    "support-close-solved": {"task": "support.tasks.close_solved_tickets", "schedule": crontab(minute=25)},
    "support-retrain-triage": {
        "task": "support.tasks.retrain_triage_model",
        "schedule": crontab(minute=50, hour=3, day_of_week="sunday"),
    },
    # Survey and feedback comments are grouped into topics again once a week, before Monday's weekly report.
    "support-comment-topics": {
        "task": "support.tasks.refresh_comment_topics",
        "schedule": crontab(minute=20, hour=4, day_of_week="sunday"),
    },
    "accounts-activity-flush": {"task": "accounts.tasks.activity_flush", "schedule": 60.0},
    "accounts-sessions-last-seen": {"task": "accounts.tasks.sessions_flush_last_seen", "schedule": 120.0},
    "accounts-suspensions-expire": {"task": "accounts.tasks.suspensions_expire", "schedule": crontab(minute="*/5")},
    # Messaging: conversations left waiting on the user resolve after MESSAGING_AUTO_RESOLVE_DAYS; the category
    # classifier is refitted weekly when agents have labelled something new.
    "messaging-auto-resolve": {"task": "messaging.tasks.auto_resolve_conversations", "schedule": crontab(minute=20)},
    "messaging-retrain-categories": {
        "task": "messaging.tasks.retrain_category_model",
        "schedule": crontab(minute=40, hour=3, day_of_week="sunday"),
    },
    # Marketplace: listings past their expiry end every quarter hour. Moderation: the spam classifier is
    # retrained weekly from moderators' decisions (when enough are new).
    "marketplace-listings-expire": {"task": "marketplace.tasks.listings_expire", "schedule": crontab(minute="*/15")},
    "marketplace-renewal-reminders": {
        "task": "marketplace.tasks.listings_remind_renewal",
        "schedule": crontab(minute=35),
    },
    "moderation-spam-retrain": {
        "task": "moderation.tasks.spam_model_retrain",
        "schedule": crontab(minute=10, hour=4, day_of_week="sunday"),
    },
}
