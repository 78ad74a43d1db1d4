from django.db import migrations, models
from django.db.models import F


def mark_unhandled_as_dispatched(apps, schema_editor):
    ClockEvent = apps.get_model("sla", "ClockEvent")
    ClockEvent.objects.filter(kind__in=["warn", "breach"], handled_at__isnull=True).update(dispatched_at=F("at"))


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0003_clockevent_unhandled_index"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="clockevent", name="clockevent_unhandled"),
        migrations.AddField(
            model_name="clockevent",
            name="dispatched_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(mark_unhandled_as_dispatched, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="clockevent",
            index=models.Index(
                condition=models.Q(("handled_at__isnull", True), ("kind__in", ["warn", "breach"])),
                fields=["dispatched_at"],
                name="clockevent_undispatched",
            ),
        ),
    ]
