"""The targets the business documents set, as the rows every period falls back on until an administrator sets
its own, and the roles that read (managers) and set (administrators) targets."""

from datetime import date

from django.db import migrations

from accounts.roles import sync_roles

# From the first period the product can report on: every later period inherits them.
SINCE = date(2000, 1, 1)
DEFAULTS = [
    # 000: approve 100 % of legitimate registrations within 48 h of submission.
    ("sla.registration.approval", 100, "000"),
    ("registrations.approved_48h", 100, "000"),
    ("registrations.team_time_48h", 100, "000"),
    # 003: 95 % of inquiries within 24 h (weekly above 90 %, monthly cumulative 95 %), response under 3 h,
    # resolution time 20 % lower than the previous quarter, issue rate under 3 %, CSAT 4.5, flagged content
    # within 12 h, recurrence under 0.5 %.
    ("sla.ticket.resolution", 95, "003"),
    ("support.resolved_24h", 95, "003"),
    ("support.resolved_24h.weekly", 90, "003"),
    ("support.first_response_hours", 3, "003"),
    ("support.resolution_time_change", -20, "003"),
    ("support.platform_issue_rate", 3, "003"),
    ("support.csat_average", 4.5, "003"),
    ("sla.moderation.decision", 100, "003"),
    ("moderation.recurrence_rate", 0.5, "003"),
    # 004: 90 % of messages answered within 24 h, 95 % by the quarter's end; 80 % of queries resolved within
    # 48-72 h, by category 95 / 90 / 85 / 90 %; the mix 30 / 40 / 10 / 15 / 5 %; 20,000 messages in the first
    # quarter, then 10-15 % growth a quarter.
    ("sla.message.first_response", 90, "004"),
    ("messaging.first_response_24h", 90, "004"),
    ("messaging.first_response_24h.closing", 95, "004"),
    ("messaging.resolution", 80, "004"),
    ("messaging.resolution.general", 95, "004"),
    ("messaging.resolution.support", 90, "004"),
    ("messaging.resolution.complaint_policy", 85, "004"),
    ("messaging.resolution.renewal", 90, "004"),
    ("messaging.mix.general", 30, "004"),
    ("messaging.mix.support", 40, "004"),
    ("messaging.mix.complaint_policy", 10, "004"),
    ("messaging.mix.renewal", 15, "004"),
    ("messaging.mix.misc", 5, "004"),
    ("messaging.volume", 20000, "004"),
    ("messaging.growth.low", 10, "004"),
    ("messaging.growth.high", 15, "004"),
]


def create_defaults(apps, schema_editor):
    Target = apps.get_model("figures", "Target")
    for key, value, document in DEFAULTS:
        if not Target.objects.filter(figure_key=key).exists():
            Target.objects.create(
                figure_key=key, period_start=SINCE, value=value, note=f"Default from business document {document}."
            )
    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [("figures", "0001_targets"), ("accounts", "0007_registration_consent")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
