from datetime import timedelta

from django.db import migrations

from accounts.roles import sync_roles

# Around the clock: users write at any hour, and the promise is "within 24 hours", not "within a working day".
FIRST_RESPONSE_HOURS = 24
RESOLUTION_HOURS = {
    "general": ("General inquiry", 48),
    "support": ("Support request", 72),
    "complaint": ("Complaint", 48),
    "renewal": ("Renewal or approval request", 48),
    "policy": ("Policy violation report", 48),
    "misc": ("Miscellaneous", 72),
}


def create_policies(apps, schema_editor):
    Calendar = apps.get_model("sla", "Calendar")
    Policy = apps.get_model("sla", "Policy")
    ResolutionPolicy = apps.get_model("messaging", "ResolutionPolicy")
    always = Calendar.objects.get(name="24/7")
    Policy.objects.get_or_create(
        metric="message.first_response",
        is_default=True,
        defaults={
            "name": "Message answered within 24 h",
            "target": timedelta(hours=FIRST_RESPONSE_HOURS),
            "warn_percents": [75, 90],
            "calendar": always,
        },
    )
    for category, (label, hours) in RESOLUTION_HOURS.items():
        name = f"{label} resolved within {hours} h"
        policy = Policy.objects.filter(metric="message.resolution", name=name).first()
        if policy is None:
            policy = Policy.objects.create(
                metric="message.resolution",
                name=name,
                target=timedelta(hours=hours),
                warn_percents=[75, 90],
                calendar=always,
                # Uncategorised conversations are measured as general inquiries until an agent decides.
                is_default=category == "general",
            )
        ResolutionPolicy.objects.get_or_create(category=category, defaults={"policy": policy})


def create_roles(apps, schema_editor):
    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0001_initial"),
        ("sla", "0002_default_calendar"),
        ("accounts", "0002_registration_policy_and_roles"),
    ]
    operations = [
        migrations.RunPython(create_policies, migrations.RunPython.noop),
        migrations.RunPython(create_roles, migrations.RunPython.noop),
    ]
