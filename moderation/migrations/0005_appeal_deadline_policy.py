from datetime import timedelta

from django.db import migrations
from django.utils import timezone

TARGET = timedelta(hours=24)
WARN_PERCENTS = [75, 90]


def create_policy_and_clocks(apps, schema_editor):
    """The appeal deadline's default policy (administrators change it in the admin), and a running clock for every
    appeal already pending, so that none is left without a deadline.

    The 24/7 calendar needs no calendar arithmetic. Points already passed are recorded as passed without events:
    the sweep would otherwise e-mail a warning and a breach for every old appeal at once.
    """
    Calendar = apps.get_model("sla", "Calendar")
    Policy = apps.get_model("sla", "Policy")
    Clock = apps.get_model("sla", "Clock")
    ClockEvent = apps.get_model("sla", "ClockEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    Appeal = apps.get_model("moderation", "Appeal")
    always = Calendar.objects.get(name="24/7")
    policy, _ = Policy.objects.get_or_create(
        metric="moderation.appeal",
        is_default=True,
        defaults={"name": "Appeals decided within 24 h", "target": TARGET, "warn_percents": WARN_PERCENTS,
                  "calendar": always},
    )
    pending = list(Appeal.objects.filter(status="pending"))
    if not pending or policy.calendar_id != always.pk:
        return
    appeal_type, _ = ContentType.objects.get_or_create(app_label="moderation", model="appeal")
    now = timezone.now()
    for appeal in pending:
        if Clock.objects.filter(metric="moderation.appeal", target_type=appeal_type, target_id=appeal.pk).exists():
            continue
        started = appeal.created_at
        due = started + policy.target
        points = {p: started + policy.target * p / 100 for p in sorted(policy.warn_percents)}
        passed = [p for p, at in points.items() if at <= now]
        breached = due <= now
        upcoming = [at for p, at in points.items() if at > now]
        clock = Clock.objects.create(
            metric="moderation.appeal",
            policy=policy,
            target_type=appeal_type,
            target_id=appeal.pk,
            state="running",
            started_at=started,
            due_at=due,
            risk_at=points[min(points)] if points else started + policy.target * 0.75,
            next_check_at=None if breached else (upcoming[0] if upcoming else due),
            warned_percent=max(passed, default=0),
            breached_at=due if breached else None,
        )
        ClockEvent.objects.create(clock=clock, kind="start", at=started, data={"due_at": due.isoformat(),
                                                                              "policy": policy.pk})


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0004_fingerprint_created_index"),
        ("sla", "0004_clockevent_dispatched_at"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_policy_and_clocks, migrations.RunPython.noop)]
