from django.db import migrations

from accounts.roles import sync_roles


def grant_renewal(apps, schema_editor):
    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0002_categories_and_roles"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="listing",
            options={
                "permissions": [
                    ("manage_listings", "Can suspend, expire and restore listings"),
                    ("renew_listing", "Can renew a listing on the seller's request"),
                    ("manage_marketplace_users", "Can suspend or ban marketplace users from the marketplace pages"),
                ]
            },
        ),
        migrations.RunPython(grant_renewal, migrations.RunPython.noop),
    ]
