"""The shared text-classifier machinery: calibrated probabilities, thresholds chosen on a fixed validation set,
refits that never regress, bounded versions and retraining across scikit-learn versions (on generated text)."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from sklearn.model_selection import train_test_split

from saypro.errors import InvalidInput
from saypro.ml import services as ml
from saypro.ml.models import TextModel, ValidationSet
from saypro.ml.services import Targets, classify, text_model_train

from .generated import spam_texts, topic_texts, write_csv

pytestmark = pytest.mark.django_db

SPAM_TARGETS = Targets(precision=0.99, positive="spam", review_recall=0.95)


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    """Loaded classifiers are cached by (name, version); each test's database numbers its versions from 1."""
    ml._loaded.clear()
    yield
    ml._loaded.clear()


@pytest.fixture(scope="module")
def spam_sample():
    return spam_texts(300, seed=1)


def test_training_stores_a_version_with_its_cross_validated_quality(spam_sample):
    texts, labels = spam_sample
    model = text_model_train(name="test.spam", texts=texts, labels=labels, folds=3)
    assert model.version == 1 and model.is_active
    assert model.labels == ["ham", "spam"]
    assert model.metrics["folds"] == 3
    assert model.metrics["accuracy"] > 0.85
    assert set(model.metrics["per_label"]) == {"ham", "spam"}
    assert model.sklearn_version == ml.SKLEARN_VERSION


def test_classify_names_the_label_confidence_and_version(spam_sample):
    texts, labels = spam_sample
    text_model_train(name="test.spam", texts=texts, labels=labels, folds=0)
    prediction = classify("test.spam", "urgent winner claim your cash prize txt win now")
    assert prediction.label == "spam"
    assert 0.5 < prediction.confidence <= 1.0
    assert prediction.probability("spam") == prediction.confidence
    assert prediction.version == 1
    assert classify("test.spam", "sorry see you at lunch tomorrow love").label == "ham"


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
    texts, labels = spam_sample
    path = write_csv(tmp_path / "sample.csv", texts, labels, header=("body", "kind"))
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


# --- Calibration --------------------------------------------------------------------------------------------------


def test_calibration_improves_the_brier_score_on_a_held_out_fold():
    texts, labels = topic_texts(900, seed=3)
    train_x, test_x, train_y, test_y = train_test_split(texts, labels, test_size=0.3, stratify=labels, random_state=0)
    raw = ml.build_pipeline(calibrated=False).fit(train_x, train_y)
    margins = raw.decision_function(test_x)
    # The margins read as probabilities (softmax), as an uncalibrated model would show them to staff.
    softmax = np.exp(margins) / np.exp(margins).sum(axis=1, keepdims=True)
    calibrated = ml.build_pipeline().fit(train_x, train_y)
    classes = [str(c) for c in calibrated.classes_]
    assert classes == [str(c) for c in raw.classes_]
    before = ml.brier_score(test_y, classes, softmax)
    after = ml.brier_score(test_y, classes, calibrated.predict_proba(test_x))
    assert after < before
    # And its confidence means what it says: the average confidence is close to the share it gets right.
    probabilities = calibrated.predict_proba(test_x)
    accuracy = np.mean([classes[row.argmax()] == truth for row, truth in zip(probabilities, test_y, strict=True)])
    assert abs(probabilities.max(axis=1).mean() - accuracy) < 0.05


# --- Thresholds on the validation set -----------------------------------------------------------------------------


def test_the_precision_threshold_is_the_lowest_cut_that_meets_the_target():
    scores = [0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5]
    right = [True, True, True, False, True, True, False]
    assert ml.precision_threshold(scores, right, target=1.0) == 0.9
    assert ml.precision_threshold(scores, right, target=0.8) == 0.6  # 5 of 6 at or above 0.6
    assert ml.precision_threshold([0.9, 0.8], [False, True], target=0.97) is None
    # Tied scores are decided together.
    assert ml.precision_threshold([0.9, 0.9, 0.8], [True, False, True], target=0.6) == 0.8


def test_the_recall_threshold_catches_the_target_share_of_positives():
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
    positive = [True] * 10
    assert ml.recall_threshold(scores, positive, target=0.95) == 0.05
    assert ml.recall_threshold(scores, positive, target=0.9) == 0.1
    assert ml.recall_threshold(scores, positive, target=0.5) == 0.5
    assert ml.recall_threshold(scores, [False] * 10, target=0.9) is None


def predictions_on_validation(model: TextModel):
    held = ValidationSet.objects.get(name=model.name)
    pipeline = pickle.loads(bytes(model.blob))
    return held, pipeline, pipeline.predict_proba(held.texts)


def test_the_auto_threshold_meets_the_stated_precision_on_the_validation_set():
    texts, labels = topic_texts(800, seed=5)
    model = text_model_train(name="test.topics", texts=texts, labels=labels, folds=0)
    held, pipeline, probabilities = predictions_on_validation(model)
    assert 100 <= len(held.labels) <= 200 and set(held.labels) == set(labels)
    threshold = model.thresholds["auto"]
    classes = list(pipeline.classes_)
    decided = [
        classes[row.argmax()] == truth
        for row, truth in zip(probabilities, held.labels, strict=True)
        if row.max() >= threshold
    ]
    assert len(decided) / len(held.labels) == pytest.approx(model.validation["auto"]["coverage"], abs=1e-4)
    assert len(decided) / len(held.labels) > 0.3
    assert sum(decided) / len(decided) >= 0.97
    # The lowest such cut: one step lower and either precision drops below the target or nothing changes.
    lower = [p for p in probabilities.max(axis=1) if p < threshold]
    if lower:
        below = max(lower)
        wider = [
            classes[row.argmax()] == truth
            for row, truth in zip(probabilities, held.labels, strict=True)
            if row.max() >= below
        ]
        assert sum(wider) / len(wider) < 0.97
    figures = model.validation
    assert figures["examples"] == len(held.labels) and 0 < figures["brier"] < 1
    assert prediction_threshold_of(model) == threshold


def prediction_threshold_of(model: TextModel) -> float | None:
    return classify(model.name, "where is my parcel").threshold(ml.AUTO, default=0.6)


def test_spam_thresholds_meet_the_precision_to_hide_and_the_recall_to_review():
    texts, labels = spam_texts(900, seed=7)
    model = text_model_train(name="test.spam", texts=texts, labels=labels, folds=0, targets=SPAM_TARGETS)
    held, pipeline, probabilities = predictions_on_validation(model)
    spam = probabilities[:, list(pipeline.classes_).index("spam")]
    is_spam = np.array(held.labels) == "spam"
    hide, review = model.thresholds["auto"], model.thresholds["review"]
    assert review <= hide
    assert is_spam[spam >= hide].mean() >= 0.99
    assert is_spam[spam >= review].sum() / is_spam.sum() >= 0.95
    assert model.validation["review"]["recall"] >= 0.95 and model.validation["auto"]["precision"] >= 0.99


def test_without_enough_examples_no_threshold_is_chosen_and_the_default_applies(spam_sample):
    texts, labels = spam_sample
    model = text_model_train(name="test.small", texts=texts[:150], labels=labels[:150], folds=0)
    assert model.thresholds == {} and model.validation == {} and model.trained_on == 150
    assert not ValidationSet.objects.filter(name="test.small").exists()
    assert classify("test.small", "hello").threshold(ml.AUTO, default=0.6) == 0.6


def test_the_validation_set_is_fixed_and_never_trained_on():
    texts, labels = topic_texts(600, seed=9)
    first = text_model_train(name="test.topics", texts=texts, labels=labels, folds=0)
    held = ValidationSet.objects.get(name="test.topics")
    assert first.trained_on == len(texts) - len(held.labels)
    # The next round brings new examples and, by way of an agent's label, a validation text in other words' case.
    more_texts, more_labels = topic_texts(300, seed=10)
    leaked = held.texts[0].upper()
    second = text_model_train(
        name="test.topics",
        texts=[*texts, *more_texts, leaked],
        labels=[*labels, *more_labels, held.labels[0]],
        folds=0,
    )
    assert ValidationSet.objects.get(name="test.topics").digest == held.digest
    assert second.trained_on == len(texts) + len(more_texts) - len(held.labels)
    assert second.validation["digest"] == first.validation["digest"] == held.digest


# --- Refits -------------------------------------------------------------------------------------------------------


def test_a_worse_refit_is_kept_inactive_with_the_reason_and_an_equal_one_activates():
    texts, labels = topic_texts(600, seed=11)
    first = text_model_train(name="test.topics", texts=texts, labels=labels, folds=0)
    # A third of the labels wrong: the refit learns much less.
    names = sorted(set(labels))
    noisy = [names[(names.index(label) + 1) % 3] if i % 3 == 0 else label for i, label in enumerate(labels)]
    worse = text_model_train(name="test.topics", texts=texts, labels=noisy, folds=0, only_if_not_worse=True)
    first.refresh_from_db()
    assert first.is_active and not worse.is_active
    assert worse.validation["accuracy"] < first.validation["accuracy"]
    assert worse.note.startswith("Not activated") and f"active v{first.version}" in worse.note
    assert classify("test.topics", "refund my card payment").version == first.version
    same = text_model_train(name="test.topics", texts=texts, labels=labels, folds=0, only_if_not_worse=True)
    assert same.is_active and same.validation["accuracy"] >= first.validation["accuracy"]
    # Training by hand is a deliberate choice: it activates whatever it scores.
    forced = text_model_train(name="test.topics", texts=texts, labels=noisy, folds=0)
    assert forced.is_active


def test_only_a_bounded_number_of_versions_is_kept(monkeypatch, spam_sample):
    monkeypatch.setattr(ml, "KEEP_VERSIONS", 2)
    texts, labels = spam_sample
    text_model_train(name="test.spam", texts=texts[:60], labels=labels[:60], folds=0)
    for _ in range(3):
        text_model_train(name="test.spam", texts=texts[:60], labels=labels[:60], folds=0, activate=False)
    # The two newest, and the active one however old.
    assert sorted(TextModel.objects.filter(name="test.spam").values_list("version", "is_active")) == [
        (1, True),
        (3, False),
        (4, False),
    ]


def test_a_model_pickled_by_another_scikit_learn_is_retrained_not_loaded(
    spam_sample, django_capture_on_commit_callbacks
):
    texts, labels = spam_sample
    TextModel.objects.create(
        name="test.old",
        version=1,
        trained_on=2,
        labels=["ham", "spam"],
        sklearn_version="0.24.2",
        blob=b"not a pickle this version could read",
        is_active=True,
    )

    def retrain():
        return text_model_train(name="test.old", texts=texts, labels=labels, folds=0)

    ml.task_register(ml.Task("test.old", retrain=retrain))
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert classify("test.old", "claim your prize") is None  # never unpickled
        assert len(callbacks) == 1
        active = TextModel.objects.get(name="test.old", is_active=True)
        assert (active.version, active.sklearn_version) == (2, ml.SKLEARN_VERSION)
        assert classify("test.old", "urgent winner claim your cash prize txt").label == "spam"
        # Nothing left to rebuild.
        assert ml.text_model_rebuild(name="test.old") is None
    finally:
        ml._tasks.pop("test.old", None)


def test_calibration_folds_keep_copies_of_a_text_together():
    texts, labels = topic_texts(120, seed=4)
    texts, labels = texts + [t.upper() for t in texts[:30]], labels + labels[:30]
    folds = ml.calibration_folds(texts, labels)
    assert len(folds) == ml.CALIBRATION_FOLDS
    for train, held in folds:
        assert not {ml.normalise(texts[i]) for i in train} & {ml.normalise(texts[i]) for i in held}
    # Two distinct texts a label are too few to hold one out: plain stratified folds over the copies.
    assert ml.calibration_folds(["a b", "c d", "e f", "g h"] * 3, ["x", "x", "y", "y"] * 3) == 5
