from django.db import migrations

from accounts.roles import sync_roles

CATEGORIES = [
    ("phones", "Phones and tablets"),
    ("electronics", "Electronics"),
    ("computers", "Computers and laptops"),
    ("vehicles", "Vehicles"),
    ("vehicle-parts", "Vehicle parts"),
    ("property-rent", "Property to rent"),
    ("property-sale", "Property for sale"),
    ("home-garden", "Home and garden"),
    ("furniture", "Furniture"),
    ("fashion", "Fashion"),
    ("baby-kids", "Baby and kids"),
    ("sports", "Sports and leisure"),
    ("jobs", "Jobs"),
    ("services", "Services"),
    ("animals", "Animals and pets"),
]


def create_categories(apps, schema_editor):
    Category = apps.get_model("marketplace", "Category")
    for position, (slug, name) in enumerate(CATEGORIES, start=1):
        Category.objects.get_or_create(slug=slug, defaults={"name": name, "position": position * 10})


def create_roles(apps, schema_editor):
    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0001_initial"),
        ("accounts", "0002_registration_policy_and_roles"),
    ]
    operations = [
        migrations.RunPython(create_categories, migrations.RunPython.noop),
        migrations.RunPython(create_roles, migrations.RunPython.noop),
    ]
