"""The solved and closed views list the most recently finished tickets first, a page at a time: these partial
indexes hold them in that order, so a page is read from the index instead of sorting every finished ticket.

On PostgreSQL only: the views order NULLS LAST, which SQLite (the embedded database) cannot put in an index; there
the views sort, as they did before."""

from django.db import migrations

from saypro.indexes import postgresql_indexes

create, drop = postgresql_indexes(
    {
        f"ticket_{status}_view": f"support_ticket ({column} DESC NULLS LAST, id DESC) WHERE status = '{status}'"
        for column, status in (("solved_at", "solved"), ("closed_at", "closed"))
    }
)


class Migration(migrations.Migration):
    dependencies = [("support", "0009_ticket_misrouted_at")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
