from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import roles
from accounts.models import User
from saypro.audit.services import audit_record

DEFAULT_PASSWORD = "saypro-demo-2026"


@dataclass(frozen=True)
class StaffLogin:
    email: str
    full_name: str
    role: str
    superuser: bool = False


STAFF_LOGINS = (
    StaffLogin("admin@saypro.example", "Demo Administrator", roles.ADMINISTRATOR, superuser=True),
    StaffLogin("reviewer@saypro.example", "Demo Registration Reviewer", roles.REVIEWER),
    StaffLogin("agent@saypro.example", "Demo Support Agent", roles.SUPPORT_AGENT),
    StaffLogin("moderator@saypro.example", "Demo Moderator", roles.MODERATOR),
    StaffLogin("manager@saypro.example", "Demo Manager", roles.MANAGER),
)


@transaction.atomic
def staff_login_ensure(*, login: StaffLogin, group: Group, password: str) -> str:
    """Bring one demo staff login to its known state; returns "created", "updated" or "unchanged"."""
    # Locked so that two concurrent start-ups cannot both decide the row is missing or stale.
    user = User.objects.select_for_update().filter(email=login.email).first()
    if user is None:
        user = User.objects.create_user(
            login.email, password, full_name=login.full_name, is_staff=True, is_superuser=login.superuser
        )
        user.groups.set([group])
        audit_record(actor=None, action="staff.created", target=user, data={"role": login.role})
        return "created"

    changed: list[str] = []
    for field, wanted in (("is_staff", True), ("is_active", True), ("is_superuser", login.superuser)):
        if getattr(user, field) != wanted:
            setattr(user, field, wanted)
            changed.append(field)
    # Re-hashing an unchanged password would rewrite the row on every start for nothing.
    if not user.check_password(password):
        user.set_password(password)
        changed.append("password")
    if changed:
        user.save(update_fields=changed)
    if set(user.groups.all()) != {group}:
        user.groups.set([group])
        changed.append("groups")
    if not changed:
        return "unchanged"
    audit_record(actor=None, action="staff.updated", target=user, data={"role": login.role, "fields": changed})
    return "updated"


class Command(BaseCommand):
    help = (
        "Create or update one staff login per role (admin@, reviewer@, agent@, moderator@, manager@saypro.example) "
        "with the password in SAYPRO_DEMO_PASSWORD."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--list",
            action="store_true",
            help="Only print the logins and their password; touch nothing (what `make run` shows when it is ready).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("SAYPRO_DEMO_PASSWORD") or DEFAULT_PASSWORD
        from_env = password != DEFAULT_PASSWORD
        shown = "the value of SAYPRO_DEMO_PASSWORD" if from_env else password
        if options["list"]:
            # The one list of demo logins, printed by scripts/run_dev.py, so the two can never disagree.
            self.stdout.write(f"Staff logins (password: {shown}):")
            for login in STAFF_LOGINS:
                self.stdout.write(f"  {login.email:<26} {self._role(login)}")
            return
        if not from_env and not settings.DEBUG:
            raise CommandError(
                "Refusing to create staff logins with the published demo password while DJANGO_DEBUG is off: "
                "set SAYPRO_DEMO_PASSWORD."
            )
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError(f"SAYPRO_DEMO_PASSWORD is too weak: {' '.join(exc.messages)}") from None

        groups = {group.name: group for group in Group.objects.filter(name__in=roles.ROLES)}
        missing = sorted({login.role for login in STAFF_LOGINS} - set(groups))
        if missing:
            raise CommandError(f"Missing role groups ({', '.join(missing)}): run `manage.py sync_roles` first.")

        self.stdout.write(f"Staff logins (password: {shown}):")
        for login in STAFF_LOGINS:
            outcome = staff_login_ensure(login=login, group=groups[login.role], password=password)
            self.stdout.write(f"  {login.email:<26} {self._role(login):<32} {outcome}")

    @staticmethod
    def _role(login: StaffLogin) -> str:
        return f"{login.role} (superuser)" if login.superuser else login.role
