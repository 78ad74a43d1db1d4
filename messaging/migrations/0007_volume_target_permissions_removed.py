"""The volume targets became figure targets (0005) but their permissions stayed, granted to administrators: a role
listed rights over a table that no longer exists. The permissions and their content type go."""

from django.db import migrations


def remove_volume_target_permissions(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    # Deleting the content type deletes its permissions and their grants with it.
    ContentType.objects.filter(app_label="messaging", model="volumetarget").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0006_conversation_next_due"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(remove_volume_target_permissions, migrations.RunPython.noop)]
