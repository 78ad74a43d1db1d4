"""Every registered figure gives the same value, n and target wherever it is shown: the registry itself, the
dashboard's tiles, the area pages, the metrics API (the figures endpoint and the report sections) and each report
format (the document's JSON, the CSV, the XLSX and the PDF), for the same period."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from openpyxl import load_workbook
from pypdf import PdfReader
from rest_framework.test import APIClient

from accounts.models import (
    AccountEvent,
    AccountSession,
    ActivityDay,
    Feedback,
    Lockout,
    PasswordReset,
    RegistrationStatus,
)
from messaging.models import Category as MessageCategory
from messaging.models import MessageKind
from moderation.models import Action, Case, Decision, Flag, Reason
from moderation.models import Source as FlagSource
from reports.document import format_value
from reports.models import Improvement
from reports.render.pdf import render_pdf
from reports.render.sheets import render_csv, render_xlsx
from reports.sections import AREAS, GENERAL, build_document, specs
from saypro import periods
from saypro.figures.registry import figure_read, figure_specs
from saypro.sla.promises import promises
from saypro.sla.services import clock_start, clock_stop
from support.models import Category as TicketCategory
from support.models import Channel, CommentTopic, Guidance, Priority, Survey, Ticket, TopicAssignment, TriageSource
from tests.factories import RegistrationFactory, UserFactory

from .test_figure_definitions import conversation, local, message, ticket

pytestmark = pytest.mark.django_db

# Inside the quarter: Q1 is read to date, compared with Q4 over the same elapsed span.
NOW = datetime(2026, 3, 20, 12, tzinfo=local(2026, 1, 1).tzinfo)
Q1 = periods.from_slug("2026-Q1")
H = timedelta(hours=1)


@pytest.fixture
def world():
    for submitted, hours, status in (
        (local(2026, 1, 12, 9), 10, RegistrationStatus.APPROVED),
        (local(2026, 2, 2, 9), 2, RegistrationStatus.REJECTED),
        (local(2026, 2, 16, 9), 70, RegistrationStatus.APPROVED),
        (local(2025, 12, 20, 9), 3, RegistrationStatus.APPROVED),
    ):
        registration = RegistrationFactory(status=status, submitted_at=submitted, decided_at=submitted + hours * H)
        clock_start(metric="registration.approval", target=registration, at=submitted)
        clock_stop(metric="registration.approval", target=registration, at=submitted + hours * H)
    RegistrationFactory(status=RegistrationStatus.NEEDS_REVIEW, submitted_at=NOW - 5 * H)
    chat = ticket(local(2026, 1, 14, 9), solved_after=10, channel=Channel.CHAT, priority=Priority.URGENT)
    # The chat was first answered after 90 seconds, inside its policy's 2 minutes.
    answered = chat.created_at + timedelta(seconds=90)
    clock_start(metric="chat.first_response", target=chat, at=chat.created_at)
    clock_stop(metric="chat.first_response", target=chat, at=answered)
    Ticket.objects.filter(pk=chat.pk).update(first_responded_at=answered)
    email = ticket(local(2026, 2, 3, 9), solved_after=30, channel=Channel.EMAIL)
    # Triage chose both departments; an agent moved the chat's (the misroute rate: 1 of 2).
    Ticket.objects.filter(pk=email.pk).update(triage_source=TriageSource.RULE)
    Ticket.objects.filter(pk=chat.pk).update(triage_source=TriageSource.AGENT, misrouted_at=chat.created_at + H)
    ticket(local(2025, 12, 3, 9), solved_after=12, channel=Channel.EMAIL)
    ticket(NOW - 2 * H, channel=Channel.SOCIAL)
    busy = conversation(local(2026, 2, 9, 9))
    for kind, hours in ((MessageKind.USER, 0), (MessageKind.USER, 1), (MessageKind.REPLY, 3), (MessageKind.USER, 30)):
        message(busy, kind, local(2026, 2, 9, 9) + hours * H)
    other = conversation(local(2025, 12, 1, 9), category=MessageCategory.GENERAL)
    message(other, MessageKind.USER, local(2025, 12, 1, 9))
    # The first answer to the busy conversation's first message, 3 h after it, on its first-response clock.
    clock_start(metric="message.first_response", target=busy, at=local(2026, 2, 9, 9))
    clock_stop(metric="message.first_response", target=busy, at=local(2026, 2, 9, 12))
    # Document 001's account figures: sign-ins, a lockout, a recovery, a session, activity and an account ticket.
    user = UserFactory(region="Gauteng")
    for kind, reason, at in (
        (AccountEvent.Kind.SIGN_IN, "", local(2026, 2, 4, 9)),
        (AccountEvent.Kind.SIGN_IN_FAILED, "bad_password", local(2026, 2, 4, 8)),
        (AccountEvent.Kind.SUSPICIOUS, "new_device", local(2026, 2, 4, 9)),
        (AccountEvent.Kind.PRIVACY_CHANGED, "consent_given", local(2026, 2, 5, 9)),
        (AccountEvent.Kind.PREFERENCES_CHANGED, "", local(2026, 2, 5, 9)),
    ):
        AccountEvent.objects.create(user=user, kind=kind, reason=reason, at=at)
    Lockout.objects.create(
        user=user, identifier="x", failures=5, started_at=local(2026, 2, 4, 8), until=local(2026, 2, 4, 9)
    )
    PasswordReset.objects.create(user=user, requested_at=local(2026, 2, 4, 8), completed_at=local(2026, 2, 4, 10))
    AccountSession.objects.create(
        user=user, channel="web", key="s", started_at=local(2026, 2, 4, 9), last_seen_at=local(2026, 2, 4, 9, 30)
    )
    for day in (date(2025, 12, 10), date(2026, 2, 4), date(2026, 2, 5)):
        ActivityDay.objects.create(user=user, day=day, sign_ins=1)
    # A listing flagged by automatic detection, removed 5 h later; an improvement logged in the quarter.
    case = Case.objects.create(
        content_type=ContentType.objects.get(app_label="marketplace", model="listing"),
        object_id=1,
        kind="listing",
        source=FlagSource.AUTOMATIC,
        reason=Reason.SPAM,
        created_at=local(2026, 2, 10, 9),
    )
    Flag.objects.create(case=case, round=1, source=FlagSource.AUTOMATIC, reason=Reason.SPAM, created_at=case.created_at)
    clock_start(metric="moderation.decision", target=case, at=case.created_at)
    clock_stop(metric="moderation.decision", target=case, at=case.created_at + 5 * H)
    Decision.objects.create(
        case=case, round=1, action=Action.REMOVE, reason="Spam.", at=case.created_at + 5 * H, automatic=True
    )
    Improvement.objects.create(kind=Improvement.Kind.FEATURE, title="Passkeys", made_on=date(2026, 2, 1))
    account = ticket(local(2026, 2, 6, 9), solved_after=4, category=TicketCategory.ACCOUNT, user=user)
    survey = Survey.objects.create(
        target_type=ContentType.objects.get_for_model(Ticket),
        target_id=account.pk,
        resolved_at=account.solved_at,
        requester=user,
        channel=Channel.WEB,
        sent_at=account.solved_at,
        rating=4,
    )
    topic = CommentTopic.objects.create(label="account help", terms=["account"])
    TopicAssignment.objects.create(topic=topic, survey=survey, commented_at=local(2026, 2, 7, 9))
    # Two NPS answers (a promoter and a passive) and a help-center question read and left without a ticket.
    for score in (10, 8):
        Feedback.objects.create(user=user, topic=Feedback.Topic.NPS, score=score, created_at=local(2026, 2, 5, 10))
    Guidance.objects.create(
        question="Refund?", asked_at=local(2026, 2, 5, 9), suggested=[[1, 0.9]], read_at=local(2026, 2, 5, 9, 5)
    )


def same(value: float | None) -> object:
    return None if value is None else pytest.approx(value, rel=1e-12)


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _pdf_text(data: bytes) -> str:
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(data)).pages)


def test_every_registered_figure_is_the_same_everywhere(world, manager, client):
    keys = [spec.key for spec in figure_specs()]
    with time_machine.travel(NOW, tick=False):
        expected = {key: figure_read(key, Q1, now=NOW) for key in keys}
        # The figures endpoint.
        body = _api(manager).get("/api/v1/metrics/figures/", {"period": "quarter", "day": "2026-03-20"}).json()
        api_figures = {f["key"]: f for f in body["figures"]}
        # The report sections, through the metrics API.
        sections = _api(manager).get("/api/v1/metrics/", {"period": "quarter", "day": "2026-03-20"}).json()
        section_figures = {f["key"]: f for s in sections["sections"] for f in s["figures"]}
        # The area pages.
        client.force_login(manager)
        area_figures = {}
        for area in AREAS:
            page = client.get(f"/dashboard/areas/{area}/", {"period": "quarter", "day": "2026-03-20"})
            assert page.status_code == 200
            area_figures |= {f.key: f for s in page.context["sections"] for f in s.figures}
        # The dashboard's tiles (this quarter to date).
        tiles = client.get("/dashboard/").context["tiles"]
        tile_figures = {f["key"]: f for t in tiles for f in t["figures"]}
        # Every report format, from one document.
        document = build_document(kind="quarterly", period=Q1, now=NOW)
    doc_figures = {f.key: f for _, f in document.figures()}
    json_figures = {f["key"]: f for s in document.as_dict()["sections"] for f in s["figures"]}
    csv_rows = [line.split(",") for line in render_csv(document).decode().splitlines()[1:]]
    csv_values = {(row[2], row[3]): row[4] for row in csv_rows if row[1] == "figures"}
    workbook = load_workbook(io.BytesIO(render_xlsx(document)))
    xlsx = {
        row[0]: row
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        if row and isinstance(row[0], str) and row[0] in expected
    }
    pdf = _pdf_text(render_pdf(document))

    assert {spec.key for spec in figure_specs()} == set(expected) and len(expected) >= 25
    # The report's general sections (the promises' achievement, the improvement log) belong to no area page.
    general = {s.key for s in specs() if s.area == GENERAL}
    off_area_pages = {f.key for s in document.sections if s.key in general for f in s.figures}
    assert {"compliance.moderation.decision", "improvements.feature"} <= off_area_pages
    tile_keys = {key for p in promises() for key in p.figure_keys}
    for key, reading in expected.items():
        value, n, target = reading.current.value, reading.current.n, reading.current.target
        assert reading.current.to_date and reading.previous is not None
        # Through JSON a float comes back as it went; compared to 12 significant digits like the spreadsheet's.
        assert (api_figures[key]["current"]["value"], api_figures[key]["current"]["n"]) == (same(value), n), key
        assert api_figures[key]["current"]["target"] == target, key
        assert api_figures[key]["previous"]["value"] == same(reading.previous.value), key
        for where in (section_figures, json_figures):
            assert (where[key]["value"], where[key]["n"], where[key]["target"]) == (same(value), n, target), key
            assert where[key]["previous"] == same(reading.previous.value), key
        if key not in off_area_pages:
            assert (area_figures[key].value, area_figures[key].n, area_figures[key].target) == (value, n, target)
        assert (doc_figures[key].value, doc_figures[key].n, doc_figures[key].met) == (value, n, reading.current.met)
        assert csv_values[(key, "value")] == ("" if value is None else str(value)), key
        assert csv_values[(key, "n")] == str(n), key
        assert csv_values[(key, "target")] == ("" if target is None else str(target)), key
        # A spreadsheet keeps 15 significant digits.
        assert (xlsx[key][2], xlsx[key][4]) == (same(value), n), key
        text = format_value(value, reading.figure.unit)
        # The section's table: the value, then its sample.
        assert f"{text} n = {n:,}" in pdf, key
        if key in tile_keys:
            assert tile_figures[key]["value"] == text, key
            assert f"n = {n:,}" in tile_figures[key]["note"], key
    # The data is not empty: the headline figures have values to agree on.
    assert expected["registrations.approved_48h"].current.value == 50.0
    assert expected["support.resolved_24h"].current.pending == 1
    assert expected["messaging.volume"].current.value == 4
    assert (expected["messaging.user_messages"].current.value, expected["messaging.team_replies"].current.value) == (
        3,
        1,
    )
    inbound = expected["messaging.inbound"]
    assert inbound.previous is not None and (inbound.current.value, inbound.previous.value) == (1, 1)
    assert expected["messaging.first_response_median"].current.value == 3
    assert expected["messaging.backlog"].current.value == 2
    assert expected["comment_topics.comments"].current.n == 1
    assert (
        expected["support.chat_first_response"].current.value,
        expected["support.chat_first_response"].current.n,
    ) == (
        100.0,
        1,
    )
    assert expected["support.chat_first_response_minutes"].current.value == 1.5
    assert expected["account_issues.failed_sign_ins"].current.value == 1
    assert expected["engagement.session_minutes"].current.value == 30
    assert expected["account_issues.ticket_csat"].current.value == 4
    assert expected["engagement.dau"].current.value > 0
    assert (expected["support.nps"].current.value, expected["support.nps"].current.n) == (50.0, 2)
    assert (expected["support.misroute_rate"].current.value, expected["support.misroute_rate"].current.n) == (50.0, 2)
    assert expected["support.deflection_rate"].current.value == 100.0
    # The chat answered after 90 s is the quarter's only answer so far.
    assert expected["support.first_response_p90"].current.value == pytest.approx(90 / 3600)
    assert expected["moderation.median_hours"].current.value == 5
    assert expected["moderation.automatic_precision"].current.value == 100
    assert (expected["moderation.flags"].current.value, expected["moderation.actions"].current.value) == (1, 1)
    assert expected["improvements.feature"].current.value == 1
    assert expected["compliance.moderation.decision"].current.value == 100
    assert expected["compliance.registration.approval"].current.n > 0
    # Both messaging targets travel in the CSV: 90 % over the quarter and the 95 % stretch for its last weeks.
    assert csv_values[("messaging.first_response_24h", "target")] == "90.0"
    assert csv_values[("messaging.first_response_24h.closing", "target")] == "95.0"
