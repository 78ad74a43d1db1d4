from datetime import timedelta

from django.db import migrations

from accounts.roles import sync_roles


def create_policy(apps, schema_editor):
    Calendar = apps.get_model("sla", "Calendar")
    Policy = apps.get_model("sla", "Policy")
    always = Calendar.objects.get(name="24/7")
    Policy.objects.get_or_create(
        metric="registration.approval",
        is_default=True,
        defaults={"name": "Registration approved within 48 h", "target": timedelta(hours=48),
                  "warn_percents": [75, 90], "calendar": always},
    )


def create_roles(apps, schema_editor):
    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("sla", "0002_default_calendar"),
        ("audit", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [
        migrations.RunPython(create_policy, migrations.RunPython.noop),
        migrations.RunPython(create_roles, migrations.RunPython.noop),
    ]
