from django.db import migrations

from saypro.search import trigram_indexes

# The staff search finds conversations by a fragment of their subject or of any message.
conversation_create, conversation_drop = trigram_indexes("messaging_conversation", ("subject",))
message_create, message_drop = trigram_indexes("messaging_message", ("body",))


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0003_conversation_triage_pending"),
    ]

    operations = [
        migrations.RunPython(conversation_create, conversation_drop),
        migrations.RunPython(message_create, message_drop),
    ]
