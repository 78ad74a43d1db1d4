from django.db import migrations

from accounts.roles import sync_roles


def grant_shifts(apps, schema_editor):
    sync_roles(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0008_registration_escalation_guidelines'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='agentprofile',
            options={'verbose_name': 'shift', 'verbose_name_plural': 'shifts'},
        ),
        migrations.RunPython(grant_shifts, migrations.RunPython.noop),
    ]
