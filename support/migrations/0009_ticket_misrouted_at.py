from django.db import migrations, models
from django.db.models import OuterRef, Subquery

MISROUTABLE = ["rule", "model"]


def backfill(apps, schema_editor):
    """A ticket an agent moved away from triage's department before this column existed: its first such move."""
    Ticket = apps.get_model("support", "Ticket")
    DepartmentTransfer = apps.get_model("support", "DepartmentTransfer")
    corrections = DepartmentTransfer.objects.filter(corrected_source__in=MISROUTABLE)
    first = corrections.filter(ticket=OuterRef("pk")).order_by("at").values("at")[:1]
    Ticket.objects.filter(pk__in=corrections.values("ticket_id")).update(misrouted_at=Subquery(first))


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0008_ticket_chat_read"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="misrouted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
