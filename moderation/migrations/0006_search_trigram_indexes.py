from django.db import migrations

from saypro.search import trigram_indexes

# The staff search finds cases by a fragment of the content's title or text.
create, drop = trigram_indexes("moderation_case", ("content_title", "content_text"))


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0005_appeal_deadline_policy"),
    ]

    operations = [migrations.RunPython(create, drop)]
