from django.db import migrations

from accounts.roles import sync_roles


def create_roles(apps, schema_editor):
    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("accounts", "0002_registration_policy_and_roles"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
