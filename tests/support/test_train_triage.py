"""`manage.py train_triage` and the weekly retraining: the shared classifier learns departments from a labelled
CSV and from agents' transfers, and waiting tickets are triaged again."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from saypro.celery import app
from saypro.ml.models import TextModel
from saypro.ml.services import evaluate, read_labelled_csv
from support import services, tasks, triage
from support.models import Ticket, TriageSource
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
TRIAGE_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "triage_train.csv"


def write_csv(path, rows, header="text,department"):
    path.write_text(header + "\n" + "\n".join(f'"{text}",{label}' for text, label in rows) + "\n")
    return path


def test_training_stores_an_active_version_reports_f1_and_retriages_the_waiting(tmp_path, ticket_for):
    waiting = ticket_for(UserFactory(), subject="Parcel", body="my parcel never arrived")
    assert Ticket.objects.get(pk=waiting.pk).needs_triage
    rows = [
        ("refund my payment", "billing"),
        ("charged twice", "billing"),
        ("invoice please", "billing"),
        ("my parcel never arrived", "orders"),
        ("where is my order", "orders"),
        ("delivery is late", "orders"),
    ]
    out = StringIO()
    call_command("train_triage", "--csv", str(write_csv(tmp_path / "t.csv", rows * 3)), "--folds", "3", stdout=out)
    text = out.getvalue()
    assert "Stored support.triage v1 (active), trained on 18 examples." in text and "billing" in text and "F1" in text
    assert TextModel.objects.get(name="support.triage", is_active=True).metrics["folds"] == 3
    ticket = Ticket.objects.get(pk=waiting.pk)
    assert ticket.department.slug == "orders" and ticket.triage_source == TriageSource.MODEL


def test_bad_csv_files_are_clear_command_errors(tmp_path):
    with pytest.raises(CommandError, match="no column"):
        call_command("train_triage", "--csv", str(write_csv(tmp_path / "a.csv", [("x", "y")], header="body,dept")))
    with pytest.raises(CommandError):
        call_command("train_triage", "--csv", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="at least two"):
        call_command("train_triage", "--csv", str(write_csv(tmp_path / "b.csv", [("x", "a"), ("y", "a")])))


@pytest.mark.skipif(not TRIAGE_CSV.exists(), reason="the shared labelled data is not beside the project")
def test_departments_of_the_real_tickets_are_classified_95_percent_right():
    texts, labels = read_labelled_csv(TRIAGE_CSV, label_column="department")
    result = evaluate(texts, labels, folds=2)
    assert result["accuracy"] >= 0.95
    assert min(row["f1"] for row in result["per_label"].values()) >= 0.9


ROWS = [
    ("refund my payment", "billing"),
    ("charged twice on my card", "billing"),
    ("send me the invoice", "billing"),
    ("my parcel never arrived", "orders"),
    ("where is my order", "orders"),
    ("the delivery is late", "orders"),
]


def move_tickets(agent, count, *, to="accounts", body="I cannot sign in to my profile"):
    """`count` tickets an agent moved to another department: each one a new label for the classifier."""
    for index in range(count):
        ticket = services.ticket_create(
            requester=UserFactory(), subject=f"Sign-in {index}", body=body, channel="web", department="billing"
        )
        services.ticket_set_department(ticket=ticket, by=agent, department=to)


def test_training_with_transfers_adds_the_last_department_each_ticket_was_moved_to(tmp_path, agent):
    ticket = services.ticket_create(requester=UserFactory(), subject="Login", body="cannot sign in", channel="web")
    services.ticket_set_department(ticket=ticket, by=agent, department="orders")
    services.ticket_set_department(ticket=ticket, by=agent, department="accounts")
    move_tickets(agent, 1)
    model = triage.triage_model_train(csv=write_csv(tmp_path / "t.csv", ROWS * 2), with_transfers=True, folds=0)
    # Two tickets, two examples: the second move of the first ticket corrected its first move.
    assert model.trained_on == 12 + 2 and model.labels == ["accounts", "billing", "orders"]
    assert model.source == f"{(tmp_path / 't.csv').resolve()} + 2 transfers"


def test_the_weekly_retraining_waits_for_enough_new_transfers_then_learns_them(tmp_path, agent, ticket_for, settings):
    # Six distinct texts separate perfectly, so even v1 (no accounts department) is calibrated to 99.8 % on a text
    # it has never seen the like of; the refit, which has, is surer still.
    settings.SUPPORT_TRIAGE_MIN_CONFIDENCE = 0.999
    assert tasks.retrain_triage_model() is None  # no version to refit: the first one is trained by hand
    first = triage.triage_model_train(csv=write_csv(tmp_path / "t.csv", ROWS * 3), folds=0)
    later = timezone.now() + timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        waiting = ticket_for(UserFactory(), subject="Profile", body="I cannot sign in to my profile")
        assert Ticket.objects.get(pk=waiting.pk).needs_triage  # v1 knows no accounts department
        move_tickets(agent, triage.RETRAIN_MIN_NEW_TRANSFERS - 1)
        assert tasks.retrain_triage_model() is None
        assert TextModel.objects.filter(name="support.triage").count() == 1
        move_tickets(agent, 1)
        assert tasks.retrain_triage_model() == 2
    active = TextModel.objects.get(name="support.triage", is_active=True)
    first.refresh_from_db()
    assert active.version == 2 and not first.is_active
    assert active.trained_on == 18 + triage.RETRAIN_MIN_NEW_TRANSFERS
    assert active.labels == ["accounts", "billing", "orders"]
    assert active.source == f"{(tmp_path / 't.csv').resolve()} + {triage.RETRAIN_MIN_NEW_TRANSFERS} transfers"
    # The ticket waiting in the triage view is triaged again by the new version.
    waiting = Ticket.objects.get(pk=waiting.pk)
    assert (waiting.department.slug, waiting.triage_model_version, waiting.needs_triage) == ("accounts", 2, False)
    # Nothing new since: the next week's run leaves the model alone.
    with time_machine.travel(later + timedelta(days=7), tick=False):
        assert tasks.retrain_triage_model() is None
    assert TextModel.objects.filter(name="support.triage").count() == 2


def test_the_weekly_retraining_skips_a_version_whose_training_file_is_gone(tmp_path, agent):
    csv = write_csv(tmp_path / "t.csv", ROWS * 3)
    triage.triage_model_train(csv=csv, folds=0)
    csv.unlink()
    with time_machine.travel(timezone.now() + timedelta(minutes=5), tick=False):
        move_tickets(agent, triage.RETRAIN_MIN_NEW_TRANSFERS)
        assert tasks.retrain_triage_model() is None
    assert TextModel.objects.filter(name="support.triage").count() == 1


def test_beat_runs_the_triage_retraining_weekly():
    entries = [entry for entry in app.conf.beat_schedule.values() if entry["task"] == tasks.retrain_triage_model.name]
    assert len(entries) == 1 and entries[0]["schedule"].day_of_week == {0}


def test_a_file_whose_labels_are_not_the_departments_trains_its_own_model_and_leaves_the_router_alone(
    tmp_path, ticket_for
):
    router = triage.triage_model_train(csv=write_csv(tmp_path / "t.csv", ROWS * 3), folds=0)
    intents = [
        ("my card has not arrived yet", "card_arrival"),
        ("when will my new card come", "card_arrival"),
        ("what exchange rate do you use", "exchange_rate"),
        ("is the exchange rate fair", "exchange_rate"),
    ]
    out = StringIO()
    call_command(
        "train_triage",
        "--csv",
        str(write_csv(tmp_path / "banking.csv", intents * 3, header="text,category")),
        "--label-column",
        "category",
        "--folds",
        "0",
        stdout=out,
    )
    assert "stored as support.triage:banking" in out.getvalue()
    benchmark = TextModel.objects.get(name="support.triage:banking")
    assert benchmark.labels == ["card_arrival", "exchange_rate"]
    # The live router is the same version, and still routes.
    assert list(TextModel.objects.filter(name="support.triage").values_list("version", "is_active")) == [(1, True)]
    ticket = ticket_for(UserFactory(), subject="Parcel", body="where is my order, the delivery is late")
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.triage_model_version == router.version and ticket.department.slug == "orders"
