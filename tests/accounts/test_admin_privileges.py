"""In the admin, an administrator manages staff but cannot promote themselves or take over a superuser's account."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from accounts import roles
from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def change_form(user: User, **changes) -> dict:
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "phone": user.phone,
        "country": user.country,
        "region": user.region,
        "language": user.language,
        "age_band": user.age_band,
        "is_staff": "on" if user.is_staff else "",
        "groups": [str(pk) for pk in user.groups.values_list("pk", flat=True)],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    return {key: value for key, value in {**data, **changes}.items() if value != ""}


def test_an_administrator_cannot_make_themselves_superuser(as_, administrator):
    client = as_("administrator")
    url = f"/admin/accounts/user/{administrator.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="is_superuser"' not in page.content.decode()
    client.post(url, change_form(administrator, is_superuser="on"))
    administrator.refresh_from_db()
    assert not administrator.is_superuser


def test_an_administrator_cannot_touch_a_superusers_account(as_):
    boss = UserFactory(email="owner@saypro.example", is_staff=True, is_superuser=True)
    client = as_("administrator")
    response = client.post(f"/admin/accounts/user/{boss.pk}/change/", change_form(boss, email="taken@evil.example"))
    assert response.status_code == 403
    password = client.post(
        f"/admin/accounts/user/{boss.pk}/password/",
        {"password1": "x-new-passphrase-9", "password2": "x-new-passphrase-9"},
    )
    assert password.status_code == 403
    boss.refresh_from_db()
    assert boss.email == "owner@saypro.example" and boss.check_password("x-new-passphrase-9") is False


def test_only_a_superuser_gives_the_administrator_role(as_, client, reviewer):
    administrators = Group.objects.get(name=roles.ADMINISTRATOR)
    url = f"/admin/accounts/user/{reviewer.pk}/change/"
    groups = [str(pk) for pk in reviewer.groups.values_list("pk", flat=True)] + [str(administrators.pk)]
    refused = as_("administrator").post(url, change_form(reviewer, groups=groups))
    assert (
        refused.status_code == 200
        and "Only a superuser gives or takes the Administrator role." in refused.content.decode()
    )
    assert not reviewer.groups.filter(name=roles.ADMINISTRATOR).exists()
    client.force_login(UserFactory(email="owner@saypro.example", is_staff=True, is_superuser=True))
    assert client.post(url, change_form(reviewer, groups=groups)).status_code == 302
    assert reviewer.groups.filter(name=roles.ADMINISTRATOR).exists()
