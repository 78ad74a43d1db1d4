"""The shared text-classifier machinery, trained on real labelled data from ../shared/data."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from saypro.errors import InvalidInput
from saypro.ml.models import TextModel
from saypro.ml.services import classify, read_labelled_csv, text_model_train

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="module")
def spam_sample():
    texts, labels = read_labelled_csv(DATA / "spam_train.csv", label_column="label")
    # A balanced slice keeps the test quick while still being real data.
    spam = [(t, lab) for t, lab in zip(texts, labels, strict=True) if lab == "spam"][:120]
    ham = [(t, lab) for t, lab in zip(texts, labels, strict=True) if lab == "ham"][:240]
    rows = spam + ham
    return [t for t, _ in rows], [lab for _, lab in rows]


def test_training_stores_a_version_with_its_cross_validated_quality(spam_sample):
    texts, labels = spam_sample
    model = text_model_train(name="test.spam", texts=texts, labels=labels, folds=3)
    assert model.version == 1 and model.is_active
    assert model.labels == ["ham", "spam"]
    assert model.metrics["folds"] == 3
    assert model.metrics["accuracy"] > 0.85
    assert set(model.metrics["per_label"]) == {"ham", "spam"}


def test_classify_names_the_label_confidence_and_version(spam_sample):
    texts, labels = spam_sample
    text_model_train(name="test.spam", texts=texts, labels=labels, folds=0)
    prediction = classify("test.spam", "WINNER!! Claim your FREE prize now, text WIN to 80086, call 0906")
    assert prediction.label == "spam"
    assert 0.5 < prediction.confidence <= 1.0
    assert prediction.version == 1
    assert classify("test.spam", "Are we still meeting for lunch tomorrow?").label == "ham"


def test_retraining_activates_the_new_version_and_keeps_the_old(spam_sample):
    texts, labels = spam_sample
    text_model_train(name="test.spam", texts=texts, labels=labels, folds=0)
    second = text_model_train(name="test.spam", texts=texts, labels=labels, folds=0)
    assert second.version == 2
    assert list(TextModel.objects.filter(name="test.spam", is_active=True).values_list("version", flat=True)) == [2]
    assert TextModel.objects.filter(name="test.spam").count() == 2
    assert classify("test.spam", "hello").version == 2


def test_classify_without_a_trained_model_is_none():
    assert classify("nothing.trained", "hello") is None


@pytest.mark.parametrize(
    ("texts", "labels"),
    [(["a", "b"], ["x", "x"]), (["a", "b", "c"], ["x", "x", "y"]), (["a"], ["x", "y"])],
)
def test_training_refuses_data_it_cannot_learn_from(texts, labels):
    with pytest.raises(InvalidInput):
        text_model_train(name="test.bad", texts=texts, labels=labels, folds=0)


def test_command_trains_from_a_csv_with_a_named_label_column(tmp_path, spam_sample):
    path = tmp_path / "sample.csv"
    texts, labels = spam_sample
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["body", "kind"])
        writer.writerows(zip(texts, labels, strict=True))
    out = io.StringIO()
    call_command(
        "train_text_model",
        name="test.cmd",
        csv=str(path),
        text_column="body",
        label_column="kind",
        folds=2,
        stdout=out,
    )
    assert "accuracy" in out.getvalue()
    with pytest.raises(CommandError, match="no column"):
        call_command("train_text_model", name="test.cmd", csv=str(path), label_column="missing")
    with pytest.raises(CommandError):
        call_command("train_text_model", name="test.cmd", csv=str(tmp_path / "absent.csv"), label_column="kind")
