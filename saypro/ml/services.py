"""Training, evaluating and using the trainable text classifiers.

One recipe serves every classifier: TF-IDF over words and character n-grams (robust to typos and short texts),
joined by sentence embeddings where the optional encoder is installed (saypro.ml.embeddings), feeding a linear
classifier whose scores are calibrated into probabilities on held-out folds (CalibratedClassifierCV), so that
"80 %" means right about eight times in ten. That calibrated probability is the
confidence staff see and the one every threshold applies to.

Each classifier (a model name, "task") keeps a fixed validation set (ValidationSet): split off the first time the
task has enough examples, never trained on by any version. On it every version gets its figures and its decision
thresholds: the lowest probability at which its automatic decisions still meet the task's stated precision (most
coverage), and for tasks with a positive class (spam) the review threshold that still catches the stated recall.
A refit activates only when it scores at least as well there as the active version.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import pickle
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path
from threading import Lock
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Max

from saypro.errors import InvalidInput

from .embeddings import encoder_name
from .models import TextModel, ValidationSet

logger = logging.getLogger(__name__)

MIN_EXAMPLES_PER_LABEL = 2
SKLEARN_VERSION = package_version("scikit-learn")
# Versions kept per task (the active one is always kept besides): enough to compare and roll back, bounded so that
# weekly refits do not pile up pickles in the database.
KEEP_VERSIONS = 5
# A validation set is split off once a task has this many examples; below it there is too little to calibrate
# thresholds on, and the consumers' configured defaults apply.
MIN_VALIDATION_EXAMPLES = 200
VALIDATION_SHARE = 0.2
# A label with fewer examples stays wholly in training: holding one of three out would cripple it.
MIN_LABEL_FOR_VALIDATION = 5
CALIBRATION_FOLDS = 5
EMBEDDING_WEIGHT = 2.0
MIN_DISTINCT_FOR_GROUPED_CALIBRATION = 3

AUTO = "auto"
REVIEW = "review"


@dataclass(frozen=True)
class Targets:
    """What a task's thresholds must achieve on its validation set.

    `precision`: the share of automatic decisions that must be right (the auto threshold is the lowest calibrated
    probability that still meets it). For a task with a `positive` label (spam), thresholds apply to P(positive)
    and `review_recall` sets the review threshold: the highest P(positive) that still catches that share of the
    positives."""

    precision: float = 0.97
    positive: str = ""
    review_recall: float | None = None


DEFAULT_TARGETS = Targets()


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float  # calibrated probability of `label`
    version: int
    model_name: str
    probabilities: Mapping[str, float] = field(default_factory=dict)
    thresholds: Mapping[str, float | None] = field(default_factory=dict)

    def threshold(self, key: str, default: float | None) -> float | None:
        """The version's chosen threshold; `default` when it has none (trained on too little to choose one).
        None means no probability met the task's target: nothing is decided automatically."""
        return self.thresholds.get(key, default)

    def probability(self, label: str) -> float:
        return self.probabilities.get(label, 0.0)


def build_pipeline(
    *, calibrated: bool = True, calibration_folds: Any = CALIBRATION_FOLDS, embeddings: bool | None = None
) -> Any:
    """The pipeline every classifier trains. `embeddings`: add sentence embeddings to the n-grams (by default,
    when the encoder is installed)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    from .features import SentenceEmbeddings

    # Character n-grams weigh a little more than words: on banking77 (held out) that was the best of the unions
    # tried (docs/CLASSIFIERS.md), as they carry typos and word forms that words alone miss.
    parts: list[tuple[str, Any]] = [
        ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, strip_accents="unicode")),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)),
    ]
    weights = {"words": 1.0, "chars": 1.5}
    if bool(encoder_name()) if embeddings is None else embeddings:
        # Unit-length embeddings weighed twice: the best of 1, 2 and 3 in five-fold CV on banking77.
        parts.append(("meaning", SentenceEmbeddings()))
        weights["meaning"] = EMBEDDING_WEIGHT
    features = FeatureUnion(parts, transformer_weights=weights)
    margin = LinearSVC(C=0.5, random_state=0)
    if not calibrated:
        return Pipeline([("features", features), ("classifier", margin)])
    # Temperature scaling fitted on held-out folds: the margins of a linear SVM are not probabilities. One
    # parameter for all labels is stable even with few examples per label (per-label sigmoids are not, and can
    # change which label wins), and it never changes which label wins: only how sure the model says it is.
    classifier = CalibratedClassifierCV(margin, method="temperature", cv=calibration_folds, ensemble=False)
    return Pipeline([("features", features), ("classifier", classifier)])


def _smallest_count(labels: Sequence[str]) -> int:
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return min(counts.values())


def calibration_folds(texts: Sequence[str], labels: Sequence[str]) -> Any:
    """The folds calibration is fitted on: copies of one text stay in one fold (a held-out copy of a training text
    would teach the calibrator that the model is always right), stratified by label, as many as the rarest
    label's distinct texts allow, at most CALIBRATION_FOLDS."""
    from sklearn.model_selection import StratifiedGroupKFold

    groups = [normalise(text) for text in texts]
    distinct: dict[str, set[str]] = {}
    for group, label in zip(groups, labels, strict=True):
        distinct.setdefault(label, set()).add(group)
    folds = min(CALIBRATION_FOLDS, min(len(members) for members in distinct.values()))
    if folds < MIN_DISTINCT_FOR_GROUPED_CALIBRATION:
        # Holding out one of a label's only two texts leaves nothing like it to learn from, and the calibrator
        # would conclude the model knows nothing; with so little, held-out copies are the lesser evil.
        return max(2, min(CALIBRATION_FOLDS, _smallest_count(labels)))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=0)
    return list(splitter.split(list(texts), list(labels), groups))


def _pipeline_for(texts: Sequence[str], labels: Sequence[str], *, embeddings: bool | None = None) -> Any:
    return build_pipeline(calibration_folds=calibration_folds(texts, labels), embeddings=embeddings)


def evaluate(
    texts: Sequence[str], labels: Sequence[str], *, folds: int = 5, seed: int = 0, embeddings: bool | None = None
) -> dict[str, Any]:
    """Stratified k-fold cross-validation: accuracy, macro F1 and per-label precision, recall and F1."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    labels = list(labels)
    folds = max(2, min(folds, _smallest_count(labels)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    # Temperature scaling never changes which label wins: the uncalibrated margins give the same predictions at a
    # fraction of the cost.
    pipeline = build_pipeline(calibrated=False, embeddings=embeddings)
    predicted = cross_val_predict(pipeline, list(texts), labels, cv=splitter)
    return {"folds": folds, **label_figures(labels, list(predicted))}


def label_figures(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    names = sorted(set(truth))
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=names, zero_division=0)
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, labels=names, average="macro", zero_division=0)), 4),
        "per_label": {
            name: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(s),
            }
            for name, p, r, f, s in zip(names, precision, recall, f1, support, strict=True)
        },
    }


# --- Thresholds ---------------------------------------------------------------------------------------------------


def precision_threshold(scores: Sequence[float], right: Sequence[bool], *, target: float) -> float | None:
    """The lowest score s such that the items scored at least s are at least `target` right: the most coverage at
    the stated precision. None when no cut reaches it."""
    ranked = sorted(zip(scores, right, strict=True), key=lambda pair: -pair[0])
    chosen = None
    hits = 0
    for index, (score, ok) in enumerate(ranked):
        hits += ok
        if index + 1 < len(ranked) and ranked[index + 1][0] == score:
            continue  # a cut can only fall between different scores
        if hits / (index + 1) >= target:
            chosen = score
    return chosen


def recall_threshold(scores: Sequence[float], positive: Sequence[bool], *, target: float) -> float | None:
    """The highest score s such that at least `target` of the positives score s or more."""
    ranked = sorted((score for score, is_positive in zip(scores, positive, strict=True) if is_positive), reverse=True)
    if not ranked:
        return None
    return ranked[max(0, math.ceil(target * len(ranked)) - 1)]


def _at_threshold(scores: Sequence[float], right: Sequence[bool], threshold: float | None) -> dict[str, Any]:
    total = len(scores)
    decided = [ok for score, ok in zip(scores, right, strict=True) if threshold is not None and score >= threshold]
    return {
        "threshold": threshold,
        "decided": len(decided),
        "right": sum(decided),
        "precision": round(sum(decided) / len(decided), 4) if decided else None,
        "coverage": round(len(decided) / total, 4) if total else 0.0,
    }


def brier_score(truth: Sequence[str], classes: Sequence[str], probabilities: Any) -> float:
    """Mean over items of the squared distance between the probabilities and the one-hot truth (0 is perfect)."""
    import numpy as np

    index = {label: i for i, label in enumerate(classes)}
    onehot = np.zeros_like(probabilities, dtype=float)
    for row, label in enumerate(truth):
        if label in index:
            onehot[row, index[label]] = 1.0
    return float(np.mean(np.sum((np.asarray(probabilities) - onehot) ** 2, axis=1)))


def validation_figures(
    pipeline: Any, texts: Sequence[str], labels: Sequence[str], *, targets: Targets
) -> tuple[dict[str, Any], dict[str, float | None]]:
    """(figures, thresholds) of a fitted pipeline on validation examples."""
    probabilities = pipeline.predict_proba(list(texts))
    classes = [str(label) for label in pipeline.classes_]
    predicted = [classes[int(row.argmax())] for row in probabilities]
    confidence = [float(row.max()) for row in probabilities]
    figures: dict[str, Any] = {
        "examples": len(labels),
        **label_figures(labels, predicted),
        "brier": round(brier_score(labels, classes, probabilities), 4),
        "mean_confidence": round(sum(confidence) / len(confidence), 4),
    }
    thresholds: dict[str, float | None] = {}
    if targets.positive and targets.positive in classes:
        column = classes.index(targets.positive)
        scores = [float(row[column]) for row in probabilities]
        is_positive = [label == targets.positive for label in labels]
        auto = precision_threshold(scores, is_positive, target=targets.precision)
        thresholds[AUTO] = auto
        figures[AUTO] = {"target_precision": targets.precision, **_at_threshold(scores, is_positive, auto)}
        if targets.review_recall is not None:
            review_at = recall_threshold(scores, is_positive, target=targets.review_recall)
            if review_at is not None and auto is not None:
                # What is hidden is also reviewed: review never starts above the auto threshold.
                review_at = min(review_at, auto)
            thresholds[REVIEW] = review_at
            review = _at_threshold(scores, is_positive, thresholds[REVIEW])
            positives = sum(is_positive)
            review["recall"] = round(review["right"] / positives, 4) if positives else None
            figures[REVIEW] = {"target_recall": targets.review_recall, **review}
        figures[AUTO]["recall"] = round(figures[AUTO]["right"] / sum(is_positive), 4) if sum(is_positive) else None
    else:
        right = [guess == truth for guess, truth in zip(predicted, labels, strict=True)]
        thresholds[AUTO] = precision_threshold(confidence, right, target=targets.precision)
        figures[AUTO] = {"target_precision": targets.precision, **_at_threshold(confidence, right, thresholds[AUTO])}
    return figures, thresholds


# --- The fixed validation set -------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Texts equal after this are the same example: the validation set never leaks into training through case,
    spacing or punctuation."""
    return " ".join(re.findall(r"\w+", text.lower()))


def _bucket(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()


def _digest(texts: Sequence[str], labels: Sequence[str]) -> str:
    return hashlib.sha256(json.dumps([list(texts), list(labels)]).encode()).hexdigest()


def validation_split(
    texts: Sequence[str], labels: Sequence[str], *, share: float = VALIDATION_SHARE
) -> tuple[list[int], list[int]]:
    """(training indexes, validation indexes): per label, the `share` of its distinct texts that hash lowest. The
    same text always lands on the same side, duplicates together, whatever else is in the file."""
    by_label: dict[str, dict[str, list[int]]] = {}
    for index, (text, label) in enumerate(zip(texts, labels, strict=True)):
        by_label.setdefault(label, {}).setdefault(_bucket(text), []).append(index)
    held: set[int] = set()
    for groups in by_label.values():
        if sum(len(members) for members in groups.values()) < MIN_LABEL_FOR_VALIDATION:
            continue
        count = round(len(groups) * share)
        for key in sorted(groups)[:count]:
            held.update(groups[key])
    return [i for i in range(len(texts)) if i not in held], sorted(held)


def validation_set_for(name: str, texts: Sequence[str], labels: Sequence[str], *, source: str) -> ValidationSet | None:
    """The task's validation set, split off from these examples the first time there are enough of them."""
    existing = ValidationSet.objects.filter(name=name).first()
    if existing is not None or len(texts) < MIN_VALIDATION_EXAMPLES:
        return existing
    _, held = validation_split(texts, labels)
    if len({labels[i] for i in held}) < 2:
        return None
    held_texts = [texts[i] for i in held]
    held_labels = [labels[i] for i in held]
    ValidationSet.objects.get_or_create(
        name=name,
        defaults={
            "texts": held_texts,
            "labels": held_labels,
            "source": source[:300],
            "digest": _digest(held_texts, held_labels),
        },
    )
    return ValidationSet.objects.get(name=name)


# --- Training ------------------------------------------------------------------------------------------------------


def _check_training_data(texts: Sequence[str], labels: Sequence[str]) -> None:
    if len(texts) != len(labels):
        raise InvalidInput("Texts and labels differ in length.")
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    if len(counts) < 2:
        raise InvalidInput("Training needs at least two different labels.")
    thin = sorted(label for label, n in counts.items() if n < MIN_EXAMPLES_PER_LABEL)
    if thin:
        raise InvalidInput(f"Too few examples for: {', '.join(thin)} (at least {MIN_EXAMPLES_PER_LABEL} each).")


def loadable(sklearn_version: str, encoder: str) -> bool:
    """Whether a stored version can be used here: pickled by this scikit-learn, and its sentence encoder (if it
    uses one) installed. Otherwise it is retrained with what this installation has."""
    return sklearn_version == SKLEARN_VERSION and (not encoder or encoder == encoder_name())


def _regression(name: str, figures: dict[str, Any]) -> str:
    """Why a refit with these validation figures must not replace the active version ("" when it may)."""
    active = TextModel.objects.filter(name=name, is_active=True).defer("blob").first()
    if active is None or not figures:
        return ""
    theirs = active.validation
    if theirs.get("digest") != figures.get("digest") or not loadable(active.sklearn_version, active.encoder):
        return ""  # measured on other examples, or unloadable: nothing comparable to keep
    if figures["accuracy"] < theirs["accuracy"]:
        return (
            f"Not activated: {figures['accuracy']:.1%} right on the {figures['examples']} validation examples, "
            f"below the active v{active.version}'s {theirs['accuracy']:.1%}."
        )
    return ""


def _prune(name: str) -> None:
    keep = list(TextModel.objects.filter(name=name).order_by("-version").values_list("pk", flat=True)[:KEEP_VERSIONS])
    TextModel.objects.filter(name=name, is_active=False).exclude(pk__in=keep).delete()


def text_model_train(
    *,
    name: str,
    texts: Sequence[str],
    labels: Sequence[str],
    folds: int = 5,
    source: str = "",
    activate: bool = True,
    only_if_not_worse: bool = False,
    targets: Targets = DEFAULT_TARGETS,
    embeddings: bool = True,
) -> TextModel:
    """Evaluate by cross-validation, fit and calibrate on everything outside the task's validation set, choose the
    thresholds on that set, and store the result as the next version.

    With `activate` it becomes the active version, unless `only_if_not_worse` (the weekly refits) and it scores
    worse than the active version on the validation set: then it is kept inactive, with the reason in `note`."""
    texts = [str(text) for text in texts]
    labels = [str(label) for label in labels]
    _check_training_data(texts, labels)
    held = validation_set_for(name, texts, labels, source=source)
    if held is not None:
        # Never train on a validation example, however it reached this round's data.
        seen = {normalise(text) for text in held.texts}
        pairs = [(t, lab) for t, lab in zip(texts, labels, strict=True) if normalise(t) not in seen]
        texts, labels = [t for t, _ in pairs], [lab for _, lab in pairs]
        _check_training_data(texts, labels)
    encoder = encoder_name() if embeddings else ""
    metrics = evaluate(texts, labels, folds=folds, embeddings=bool(encoder)) if folds else {}
    pipeline = _pipeline_for(texts, labels, embeddings=bool(encoder)).fit(texts, labels)
    figures: dict[str, Any] = {}
    thresholds: dict[str, float | None] = {}
    if held is not None:
        figures, thresholds = validation_figures(pipeline, held.texts, held.labels, targets=targets)
        figures["digest"] = held.digest
    blob = pickle.dumps(pipeline, protocol=pickle.HIGHEST_PROTOCOL)
    with transaction.atomic():
        # Lock the name's rows so two trainings in parallel get distinct version numbers.
        list(TextModel.objects.select_for_update().filter(name=name).values_list("pk", flat=True))
        version = (TextModel.objects.filter(name=name).aggregate(v=Max("version"))["v"] or 0) + 1
        note = _regression(name, figures) if activate and only_if_not_worse else ""
        activated = activate and not note
        if activated:
            TextModel.objects.filter(name=name, is_active=True).update(is_active=False)
            note = "Activated." if not figures else f"Activated: {figures['accuracy']:.1%} right on validation."
        model = TextModel.objects.create(
            name=name,
            version=version,
            trained_on=len(texts),
            labels=sorted(set(labels)),
            metrics=metrics,
            validation=figures,
            thresholds=thresholds,
            source=source[:300],
            sklearn_version=SKLEARN_VERSION,
            encoder=encoder,
            note=note or "Trained, not activated.",
            blob=blob,
            is_active=activated,
        )
        _prune(name)
    if note.startswith("Not activated"):
        logger.warning("%s %s", model, note)
    return model


def read_labelled_csv(path: str | Path, *, text_column: str = "text", label_column: str) -> tuple[list[str], list[str]]:
    """Read (texts, labels) from a CSV with a header; rows with an empty text or label are skipped."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {text_column, label_column} - set(reader.fieldnames or [])
        if missing:
            raise InvalidInput(f"The CSV has no column {', '.join(sorted(missing))}; it has {reader.fieldnames}.")
        rows = [(row[text_column].strip(), row[label_column].strip()) for row in reader]
    rows = [(text, label) for text, label in rows if text and label]
    return [text for text, _ in rows], [label for _, label in rows]


# --- Tasks: how each app retrains and counts the decisions of its classifier ---------------------------------------


@dataclass(frozen=True)
class Task:
    name: str
    retrain: Callable[[], TextModel | None] | None = None
    decisions: Callable[[int], int] | None = None  # decisions a version made automatically


_tasks: dict[str, Task] = {}


def task_register(task: Task) -> None:
    """Apps register their classifiers in AppConfig.ready(); the kernel never imports an app."""
    _tasks[task.name] = task


def task_for(name: str) -> Task | None:
    return _tasks.get(name)


def decisions_made(model: TextModel) -> int | None:
    task = _tasks.get(model.name)
    return task.decisions(model.version) if task is not None and task.decisions is not None else None


_REBUILD_LOCK = "ml:rebuild:{name}"


def text_model_rebuild(*, name: str) -> TextModel | None:
    """Retrain a task whose active version cannot be loaded here: pickled by another scikit-learn version (such a
    pickle may load wrongly or not at all, so it is never loaded), or needing a sentence encoder that is not
    installed. Returns the new version, or None when nothing was needed or the task has no way to retrain."""
    active = TextModel.objects.filter(name=name, is_active=True).defer("blob").first()
    if active is None or loadable(active.sklearn_version, active.encoder):
        return None
    task = _tasks.get(name)
    why = f"pickled by scikit-learn {active.sklearn_version!r} with encoder {active.encoder or 'none'!r}"
    if task is None or task.retrain is None:
        logger.warning("%s was %s and cannot be retrained here.", active, why)
        return None
    try:
        logger.info(
            "Retraining %s: %s; this is scikit-learn %s with encoder %r.",
            active,
            why,
            SKLEARN_VERSION,
            encoder_name() or "none",
        )
        return task.retrain()
    finally:
        cache.delete(_REBUILD_LOCK.format(name=name))


def _rebuild_soon(name: str) -> None:
    if not cache.add(_REBUILD_LOCK.format(name=name), 1, timeout=3600):
        return  # already on its way
    from .tasks import rebuild_text_model

    transaction.on_commit(lambda: rebuild_text_model.delay(name), robust=True)


# --- Predicting ----------------------------------------------------------------------------------------------------

_loaded: dict[tuple[str, int], Any] = {}
_load_lock = Lock()


def _pipeline(model_id: int, name: str, version: int) -> Any:
    key = (name, version)
    if key not in _loaded:
        with _load_lock:
            if key not in _loaded:
                blob = TextModel.objects.values_list("blob", flat=True).get(pk=model_id)
                _loaded[key] = pickle.loads(bytes(blob))
    return _loaded[key]


@dataclass(frozen=True)
class Loaded:
    pipeline: Any
    version: int
    thresholds: dict[str, float | None]


def active_model(name: str) -> Loaded | None:
    """The active version's fitted pipeline, or None: none trained, or not loadable here (another scikit-learn
    version, or its sentence encoder missing): then it is retrained in the background and the caller goes on
    without a model meanwhile."""
    active = (
        TextModel.objects.filter(name=name, is_active=True)
        .values_list("pk", "version", "sklearn_version", "encoder", "thresholds")
        .first()
    )
    if active is None:
        return None
    model_id, version, pickled_by, encoder, thresholds = active
    if not loadable(pickled_by, encoder):
        _rebuild_soon(name)
        return None
    return Loaded(pipeline=_pipeline(model_id, name, version), version=version, thresholds=thresholds or {})


def classify(name: str, text: str) -> Prediction | None:
    """The active model's label and calibrated confidence for `text`, or None when no usable model is trained."""
    loaded = active_model(name)
    if loaded is None:
        return None
    pipeline = loaded.pipeline
    probabilities = pipeline.predict_proba([text or ""])[0]
    best = int(probabilities.argmax())
    return Prediction(
        label=str(pipeline.classes_[best]),
        confidence=float(probabilities[best]),
        version=loaded.version,
        model_name=name,
        probabilities={str(label): float(p) for label, p in zip(pipeline.classes_, probabilities, strict=True)},
        thresholds=loaded.thresholds,
    )
