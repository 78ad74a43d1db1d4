"""Trigram indexes for searching people by a fragment of their e-mail, name or phone (PostgreSQL only).

Django's `icontains` is `UPPER(column) LIKE UPPER('%fragment%')`, which no B-tree can serve: on a million users
every search scanned the table. A GIN trigram index on the same UPPER(...) expression serves it, for the admin's
user search and for the queues' search, which join the user. SQLite, the embedded development database, scans.
"""

from django.db import migrations

COLUMNS = ("email", "full_name", "phone")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS user_{column}_trgm ON accounts_user USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS user_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_account_security_roles"),
    ]

    operations = [migrations.RunPython(create, drop)]
