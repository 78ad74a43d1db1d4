"""Indexes only PostgreSQL can hold (GIN trigram indexes, NULLS LAST orderings), made by a migration's RunPython.

SQLite, the embedded development database, gets none: its queries scan or sort where PostgreSQL reads an index."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor

Step = Callable[[object, "BaseDatabaseSchemaEditor"], None]


def postgresql_indexes(indexes: Mapping[str, str], *, extension: str = "") -> tuple[Step, Step]:
    """A migration's forward and backward functions for `indexes` (name: what follows `ON`), on PostgreSQL only;
    forward first creates `extension` when one is named."""

    def create(apps: object, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        if extension:
            # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
            schema_editor.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
        for name, definition in indexes.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")

    def drop(apps: object, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in indexes:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")

    return create, drop
