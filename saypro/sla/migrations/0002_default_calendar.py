from django.db import migrations


def create_always_calendar(apps, schema_editor):
    Calendar = apps.get_model("sla", "Calendar")
    Calendar.objects.get_or_create(name="24/7", defaults={"kind": "always", "time_zone": "UTC"})


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(create_always_calendar, migrations.RunPython.noop)]
