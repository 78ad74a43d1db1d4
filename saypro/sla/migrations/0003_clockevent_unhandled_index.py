from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0002_default_calendar"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="clockevent",
            index=models.Index(
                condition=models.Q(("handled_at__isnull", True), ("kind__in", ["warn", "breach"])),
                fields=["at"],
                name="clockevent_unhandled",
            ),
        ),
    ]
