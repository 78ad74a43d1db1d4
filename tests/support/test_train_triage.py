"""`manage.py train_triage`: trains the shared classifier on a labelled CSV and re-triages waiting tickets."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from saypro.ml.models import TextModel
from saypro.ml.services import evaluate, read_labelled_csv
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
    assert "Stored support.triage v1 (active)." in text and "billing" in text and "F1" in text
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
