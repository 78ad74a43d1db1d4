from django.conf import settings
from django.db import migrations, models

from saypro.search import trigram_indexes

# The staff search finds tickets by a fragment of their subject or text.
create_trigram, drop_trigram = trigram_indexes("support_ticket", ("subject", "body"))


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0003_ticket_requester_cascade"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["closed_at"], name="ticket_closed"),
        ),
        migrations.RunPython(create_trigram, drop_trigram),
    ]
