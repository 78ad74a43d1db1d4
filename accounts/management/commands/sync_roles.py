from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import roles


class Command(BaseCommand):
    help = "Create the staff role groups and grant the permissions listed in accounts.roles (safe to re-run)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            roles.sync_roles()
        for group in Group.objects.filter(name__in=roles.ROLES).order_by("name"):
            self.stdout.write(f"{group.name}: {group.permissions.count()} permissions")
