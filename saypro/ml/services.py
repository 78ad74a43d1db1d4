"""Training, evaluating and using the trainable text classifiers.

One recipe serves every classifier: TF-IDF over words and character n-grams (robust to typos and short
texts) feeding a class-balanced logistic regression, whose probabilities are the stored confidence.
"""

from __future__ import annotations

import csv
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any

from django.db import transaction
from django.db.models import Max

from saypro.errors import InvalidInput

from .models import TextModel

MIN_EXAMPLES_PER_LABEL = 2


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    version: int
    model_name: str


def build_pipeline() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, strip_accents="unicode")),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)),
        ]
    )
    classifier = LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced")
    return Pipeline([("features", features), ("classifier", classifier)])


def evaluate(texts: Sequence[str], labels: Sequence[str], *, folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Stratified k-fold cross-validation: accuracy, macro F1 and per-label precision, recall and F1."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    smallest = min(labels.count(label) for label in set(labels)) if isinstance(labels, list) else folds
    folds = max(2, min(folds, smallest))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    predicted = cross_val_predict(build_pipeline(), list(texts), list(labels), cv=splitter)
    names = sorted(set(labels))
    precision, recall, f1, support = precision_recall_fscore_support(labels, predicted, labels=names, zero_division=0)
    return {
        "folds": folds,
        "accuracy": round(float(accuracy_score(labels, predicted)), 4),
        "macro_f1": round(float(f1_score(labels, predicted, average="macro")), 4),
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


def text_model_train(
    *,
    name: str,
    texts: Sequence[str],
    labels: Sequence[str],
    folds: int = 5,
    source: str = "",
    activate: bool = True,
) -> TextModel:
    """Evaluate by cross-validation, fit on everything, store as the next version (active by default)."""
    texts = [str(text) for text in texts]
    labels = [str(label) for label in labels]
    _check_training_data(texts, labels)
    metrics = evaluate(texts, labels, folds=folds) if folds else {}
    pipeline = build_pipeline().fit(texts, labels)
    blob = pickle.dumps(pipeline, protocol=pickle.HIGHEST_PROTOCOL)
    with transaction.atomic():
        # Lock the name's rows so two trainings in parallel get distinct version numbers.
        list(TextModel.objects.select_for_update().filter(name=name).values_list("pk", flat=True))
        version = (TextModel.objects.filter(name=name).aggregate(v=Max("version"))["v"] or 0) + 1
        if activate:
            TextModel.objects.filter(name=name, is_active=True).update(is_active=False)
        return TextModel.objects.create(
            name=name,
            version=version,
            trained_on=len(texts),
            labels=sorted(set(labels)),
            metrics=metrics,
            source=source[:300],
            blob=blob,
            is_active=activate,
        )


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


def classify(name: str, text: str) -> Prediction | None:
    """The active model's label and confidence for `text`, or None when no model of that name is trained."""
    active = TextModel.objects.filter(name=name, is_active=True).values_list("pk", "version").first()
    if active is None:
        return None
    model_id, version = active
    pipeline = _pipeline(model_id, name, version)
    probabilities = pipeline.predict_proba([text or ""])[0]
    best = int(probabilities.argmax())
    return Prediction(
        label=str(pipeline.classes_[best]), confidence=float(probabilities[best]), version=version, model_name=name
    )
