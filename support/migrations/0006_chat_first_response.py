"""Live chat's own first-response promise: the kernel's default policy for `chat.first_response` and the default
target of the share of chats answered within it. Document 003 sets the chat's hours (08:00-22:00) but no time for
its first answer, so both are starting values for administrators to edit (the policy in the SLA admin, the share
on the targets page)."""

from datetime import date, timedelta

from django.db import migrations

METRIC = "chat.first_response"
TARGET_KEY = "support.chat_first_response"


def create_defaults(apps, schema_editor):
    Calendar = apps.get_model("sla", "Calendar")
    Policy = apps.get_model("sla", "Policy")
    Target = apps.get_model("figures", "Target")
    if not Policy.objects.filter(metric=METRIC, is_default=True).exists():
        Policy.objects.create(
            metric=METRIC,
            name="Chat first response within 2 min",
            target=timedelta(minutes=2),
            # Half-time: an agent still has a minute to pick the chat up.
            warn_percents=[50],
            calendar=Calendar.objects.get(name="24/7"),
            is_default=True,
        )
    if not Target.objects.filter(figure_key=TARGET_KEY).exists():
        Target.objects.create(
            figure_key=TARGET_KEY,
            period_start=date(2000, 1, 1),
            value=90,
            note="Default: business document 003 names no first-response time for live chat.",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0005_comment_topics"),
        ("sla", "0007_arrivals_index"),
        ("figures", "0002_document_targets_and_roles"),
    ]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
