from datetime import timedelta

from django.db import migrations

from accounts.roles import sync_roles

# A starter set of what advance-fee and spam listings say; administrators manage the list from then on.
STARTER_KEYWORDS = [
    ("western union", "fraud", 40),
    ("moneygram", "fraud", 40),
    ("wire transfer", "fraud", 25),
    ("pay a deposit", "fraud", 30),
    ("deposit first", "fraud", 35),
    ("shipping agent", "fraud", 30),
    ("gift card", "fraud", 30),
    ("bitcoin", "fraud", 20),
    ("guaranteed income", "spam", 35),
    ("work from home", "spam", 20),
    ("earn money fast", "spam", 35),
    ("click here", "spam", 20),
    ("free money", "spam", 35),
    ("100% guaranteed", "spam", 20),
]


def create_policy(apps, schema_editor):
    Calendar = apps.get_model("sla", "Calendar")
    Policy = apps.get_model("sla", "Policy")
    always = Calendar.objects.get(name="24/7")
    Policy.objects.get_or_create(
        metric="moderation.decision",
        is_default=True,
        defaults={"name": "Flagged content decided within 12 h", "target": timedelta(hours=12),
                  "warn_percents": [75, 90], "calendar": always},
    )


def create_roles(apps, schema_editor):
    sync_roles(apps)


def create_keywords(apps, schema_editor):
    KeywordRule = apps.get_model("moderation", "KeywordRule")
    for phrase, reason, weight in STARTER_KEYWORDS:
        KeywordRule.objects.get_or_create(
            phrase=phrase, defaults={"reason": reason, "weight": weight, "note": "Starter list"}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0001_initial"),
        ("accounts", "0002_registration_policy_and_roles"),
        ("sla", "0002_default_calendar"),
        ("audit", "0001_initial"),
    ]
    operations = [
        migrations.RunPython(create_policy, migrations.RunPython.noop),
        migrations.RunPython(create_roles, migrations.RunPython.noop),
        migrations.RunPython(create_keywords, migrations.RunPython.noop),
    ]
