"""Trigram indexes for searching people by a fragment of their e-mail, name or phone (PostgreSQL only).

Django's `icontains` is `UPPER(column) LIKE UPPER('%fragment%')`, which no B-tree can serve: on a million users
every search scanned the table. A GIN trigram index on the same UPPER(...) expression serves it, for the admin's
user search and for the queues' search, which join the user. SQLite, the embedded development database, scans.
"""

from django.db import migrations

from saypro.indexes import postgresql_indexes

create, drop = postgresql_indexes(
    {
        f"user_{column}_trgm": f"accounts_user USING gin (UPPER({column}) gin_trgm_ops)"
        for column in ("email", "full_name", "phone")
    },
    extension="pg_trgm",
)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_account_security_roles"),
    ]

    operations = [migrations.RunPython(create, drop)]
