"""Extended planner statistics on sla_clock: a metric belongs to one target type and most of its clocks share a
state, which PostgreSQL, estimating each column alone, multiplies into a few hundred open clocks where there are
tens of thousands. With that estimate the queues' joins sort every open item instead of walking the queue's index
in order. PostgreSQL only: other databases keep no such statistics."""

from django.db import migrations

CREATE = (
    "CREATE STATISTICS IF NOT EXISTS sla_clock_metric_target_state (dependencies, ndistinct) "
    "ON metric, target_type_id, state FROM sla_clock"
)
DROP = "DROP STATISTICS IF EXISTS sla_clock_metric_target_state"


def create_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
        # Until the next ANALYZE the planner would not know the statistics exist.
        schema_editor.execute("ANALYZE sla_clock")


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0007_arrivals_index"),
    ]

    operations = [
        migrations.RunPython(create_statistics, drop_statistics, elidable=False),
    ]
