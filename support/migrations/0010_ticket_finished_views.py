"""The solved and closed views list the most recently finished tickets first, a page at a time: these partial
indexes hold them in that order, so a page is read from the index instead of sorting every finished ticket.

On PostgreSQL only: the views order NULLS LAST, which SQLite (the embedded database) cannot put in an index; there
the views sort, as they did before."""

from django.db import migrations

VIEWS = {"ticket_solved_view": ("solved_at", "solved"), "ticket_closed_view": ("closed_at", "closed")}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (column, status) in VIEWS.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON support_ticket ({column} DESC NULLS LAST, id DESC) "
            f"WHERE status = '{status}'"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in VIEWS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("support", "0009_ticket_misrouted_at")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
