"""Each role walks every page it uses (its areas from the navigation, and from there the queues' items, the detail
pages, figures, reports and search): every page opens, none gives two elements the same id, and axe-core finds no
serious or critical violation on any of them.

One test walks the roles one after another, so that axe (about half a second a page) checks each kind of page once:
first as the administrator, who holds every permission and so sees every control a page has, then as each other role
on the kinds of page the administrator's walk did not reach, and on each role's landing page and dashboard (their
tiles are the role's own)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import TestCase
from django.utils import timezone
from playwright.sync_api import expect

from accounts.services import registration_approve
from messaging import services as messaging
from moderation import services as moderation
from moderation.models import Case, Reason
from reports import services as reports
from saypro import periods
from support import services as support
from tests.factories import PASSWORD, ListingFactory, UserFactory
from tests.support.test_comment_topics import DELIVERY, REFUND, commented

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Pages not walked: files (photos, ID documents, attachments, report downloads) and list pages beyond the first.
SKIP = re.compile(r"/(download|images|attachments|id-document)/|\.(csv|pdf|xlsx)$")
MAX_PAGES = 45


@pytest.fixture
def everyday_work(submitted_registration, settings):
    """One item of each kind, so that every queue has a row to open and every detail page exists."""
    settings.MODERATION_SPAM_CSV = ""
    person = UserFactory(email="bongani@example.com", full_name="Bongani Khumalo")
    other = UserFactory(email="colleague@saypro.example", roles=["Moderator", "Registration reviewer"])
    submitted_registration(
        hours_ago=40, email="nomvula@example.com", full_name="Nomvula Dlamini", signals=(("ip_velocity", 20),)
    )
    decided_registration = submitted_registration(hours_ago=5, email="sizwe@example.com", full_name="Sizwe Ngcobo")
    with TestCase.captureOnCommitCallbacks(execute=True):
        registration_approve(registration=decided_registration, by=other, reason="Documents match.")
        messaging.conversation_start(user=person, subject="Charged twice for a renewal", body="Please refund one.")
        support.ticket_create(requester=person, subject="Payout has not arrived", body="Hello", channel="web")
        listing = ListingFactory(title="Sealed iPhone at half price")
        moderation.flag_create(reporter=person, kind="listing", object_id=listing.pk, reason=Reason.FRAUD)
        decided = ListingFactory(title="Mountain bike, barely used")
        moderation.flag_create(reporter=person, kind="listing", object_id=decided.pk, reason=Reason.SPAM)
    # Comments on surveys and feedback, grouped into topics: the support area shows them with their comments.
    commented(timezone.now(), [*DELIVERY, *REFUND])
    support.comment_topics_refresh()
    case = Case.objects.get(kind="listing", object_id=decided.pk)
    moderation.case_decide(case=case, by=other, action="remove", rule="scam", reason="Spam.")
    moderation.appeal_file(case=case, by=decided.seller, statement="It was my own bike.")
    with TestCase.captureOnCommitCallbacks(execute=True):
        reports.report_request(kind="weekly", period=reports.report_period(kind="weekly", day=periods.today()), by=None)


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-user")).to_be_visible()


def shape(path: str) -> str:
    """Pages of one kind share a shape (/tickets/N/): one of each is walked."""
    return re.sub(r"\d+", "N", path)


def walkable(href: str | None, base: str) -> str | None:
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
        return None
    parts = urlsplit(href if "://" in href else base + href)
    if parts.netloc != urlsplit(base).netloc or SKIP.search(parts.path):
        return None
    if parts.path == "/admin/" or (parts.path.startswith("/dashboard/") and "page=" not in parts.query):
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return None


def axe_problems(page) -> list[str]:
    violations = Axe().run(page).response["violations"]
    return [
        f"{violation['id']}: {[node['target'] for node in violation['nodes']][:3]}"
        for violation in violations
        if violation["impact"] in ("serious", "critical")
    ]


def ids_used_twice(page) -> list[str]:
    return page.evaluate(
        """() => {
            const ids = Array.from(document.querySelectorAll("[id]"), el => el.id);
            return [...new Set(ids.filter((id, index) => ids.indexOf(id) !== index))];
        }"""
    )


def problems_on(page) -> tuple[list[str], list[str]]:
    return axe_problems(page), ids_used_twice(page)


def walk(page, base: str, role: str, axed: set[str]) -> tuple[list[str], dict[str, object]]:
    """The pages a role reaches from its landing page, and what was wrong on them. Axe checks the landing page, the
    dashboard and the kinds of page not in `axed`, and adds them to it."""
    todo = [(page.url.removeprefix(base), 0, "sign-in")]
    if page.get_by_test_id("topbar-search").count():
        todo.append(("/dashboard/search/?q=Bongani", 1, "the top bar"))
    seen: set[str] = set()
    walked: list[str] = []
    found: dict[str, object] = {}
    while todo and len(walked) < MAX_PAGES:
        path, depth, linked_from = todo.pop(0)
        kind = shape(path.split("?")[0])
        if kind in seen:
            continue
        seen.add(kind)
        response = page.goto(base + path)
        assert response is not None and response.status < 400, (role, path, linked_from, response and response.status)
        walked.append(path)
        serious = axe_problems(page) if depth == 0 or kind == "/dashboard/" or kind not in axed else []
        axed.add(kind)
        twice = ids_used_twice(page)
        if serious or twice:
            found[path] = {"axe": serious, "ids used twice": twice}
        if depth < 3 and not path.startswith("/admin/"):
            hrefs = page.eval_on_selector_all(
                "nav.sidenav a[href], main a[href]", "links => links.map(link => link.getAttribute('href'))"
            )
            todo.extend((target, depth + 1, path) for href in hrefs if (target := walkable(href, base)))
    return walked, found


def test_every_page_each_role_uses_passes_axe_with_unique_ids(page, live_server, everyday_work, request):
    base = live_server.url
    axed: set[str] = set()
    for role in ["administrator", "reviewer", "agent", "moderator", "manager"]:
        person = request.getfixturevalue(role)
        page.context.clear_cookies()
        sign_in(page, base, person.email)
        walked, found = walk(page, base, role, axed)
        assert found == {}, (role, found)
        # The walk reached the role's work, not just its first page.
        assert len(walked) >= 5, (role, walked)
        print(role, len(walked), "pages:", " ".join(walked))
