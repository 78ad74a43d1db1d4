"""The hot paths under load: sign-up, a user writing to the admins, an agent's inbox, posting a listing (with
automatic detection), and a manager's dashboard.

Run by bench/load/run_load.py, which starts the stack and hands over, through environment variables, the
file of marketplace users' API tokens (LOAD_TOKENS) and the staff password (LOAD_STAFF_PASSWORD).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import uuid

from locust import HttpUser, between, task

TOKENS = json.loads(open(os.environ["LOAD_TOKENS"]).read())  # noqa: SIM115 (read once at start)
STAFF_PASSWORD = os.environ["LOAD_STAFF_PASSWORD"]
_token_cycle = itertools.cycle(TOKENS)
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class MarketplaceUser(HttpUser):
    """A signed-up user of the marketplace app: writes to the admins and posts listings; new visitors sign up."""

    weight = 6
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.client.verify = False  # gunicorn's certificate is made up for the run
        self.headers = {"Authorization": f"Token {next(_token_cycle)}"}

    @task(2)
    def sign_up(self) -> None:
        n = uuid.uuid4().hex[:12]
        body = {
            "email": f"load-{n}@example.com",
            "password": "a-long-and-unusual-passphrase",
            "full_name": "Load Tester",
            "phone": f"+2782{random.randrange(10**7):07d}",
            "country": "ZA",
            "region": "Gauteng",
            "language": "en",
            "age_band": "25-34",
            "accepted_terms": True,
            "submit": True,
        }
        self.client.post("/api/v1/registrations/", json=body, name="sign-up")

    @task(3)
    def write_to_the_admins(self) -> None:
        body = {"subject": "My ad", "body": "Hello, how do I renew my ad for the bicycle? It expired yesterday."}
        self.client.post("/api/v1/conversations/", json=body, headers=self.headers, name="user message")

    @task(3)
    def post_a_listing(self) -> None:
        body = {
            "title": f"Mountain bike {random.randrange(1000)}",
            "description": "Well kept 21-speed mountain bike, new tyres, collection in Sandton.",
            "price": str(random.randrange(800, 6000)),
            "currency": "ZAR",
            "category": "vehicles",
            "region": "Gauteng",
        }
        self.client.post("/api/v1/listings/", json=body, headers=self.headers, name="listing + detection")


class StaffUser(HttpUser):
    """Signs in through the sign-in page like a person, then works one page."""

    abstract = True
    email = ""
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.client.verify = False  # gunicorn's certificate is made up for the run
        page = self.client.get("/accounts/login/", name="sign-in page")
        token = CSRF.search(page.text)
        with self.client.post(
            "/accounts/login/",
            data={"username": self.email, "password": STAFF_PASSWORD, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": f"{self.host}/accounts/login/"},
            name="sign in",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"sign-in answered {response.status_code}, not a redirect to the dashboard")


def staff_page(user: HttpUser, path: str, name: str) -> None:
    """A staff page, which counts as served only if it is the page itself and not the sign-in form."""
    with user.client.get(path, name=name, allow_redirects=False, catch_response=True) as response:
        if response.status_code != 200:
            response.failure(f"{path} answered {response.status_code}")


class Agent(StaffUser):
    weight = 2
    email = "agent@saypro.example"

    @task
    def inbox(self) -> None:
        staff_page(self, "/dashboard/messages/?view=unassigned", "agent inbox")


class Manager(StaffUser):
    weight = 1
    email = "manager@saypro.example"

    @task
    def dashboard(self) -> None:
        staff_page(self, "/dashboard/", "dashboard")
        staff_page(self, "/dashboard/tiles/", "dashboard tiles refresh")
