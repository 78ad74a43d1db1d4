from django.db import migrations

from accounts.roles import sync_roles


def grant_account_security(apps, schema_editor):
    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_account_security_activity_privacy")]
    operations = [migrations.RunPython(grant_account_security, migrations.RunPython.noop)]
