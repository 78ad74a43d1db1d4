"""What the classifier benchmarks share: an honest held-out split, the product's own training path without a
database, single-call latency on one core, and the figures printed.

Honest: the held-out part is split off first (stratified, fixed seed), then every held-out text that is a
near-duplicate of a training text is dropped (the same words after normalising, or a cosine similarity of 0.9 or
more between their character n-gram TF-IDF vectors), so a figure measures generalisation, not recall of a text the
model has seen. The product's path: the training part is split again into the fixed validation set
(saypro.ml.services.validation_split) and the rest; the calibrated pipeline is fitted on the rest and its thresholds
chosen on the validation set, exactly as text_model_train does.
"""

from __future__ import annotations

import os

# One core for every library, before numpy loads: the latency figures are per item on one core.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
NEAR_DUPLICATE = 0.9


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saypro.settings")
    os.environ.setdefault("SAYPRO_VAR_DIR", tempfile.mkdtemp(prefix="classifier-bench-"))
    import django

    django.setup()


@dataclass
class Split:
    train_x: list[str]
    train_y: list[str]
    test_x: list[str]
    test_y: list[str]
    dropped: int


def honest_split(texts: list[str], labels: list[str], *, test_size: float, seed: int) -> Split:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import train_test_split

    from saypro.ml.services import normalise

    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, test_size=test_size, stratify=labels, random_state=seed
    )
    seen = {normalise(text) for text in train_x}
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit(train_x)
    train_vectors = vectorizer.transform(train_x)
    keep = []
    test_vectors = vectorizer.transform(test_x)
    for start in range(0, len(test_x), 500):
        similarity = (test_vectors[start : start + 500] @ train_vectors.T).max(axis=1).toarray().ravel()
        for offset, best in enumerate(similarity):
            index = start + offset
            keep.append(best < NEAR_DUPLICATE and normalise(test_x[index]) not in seen)
    kept_x = [text for text, ok in zip(test_x, keep, strict=True) if ok]
    kept_y = [label for label, ok in zip(test_y, keep, strict=True) if ok]
    return Split(train_x, train_y, kept_x, kept_y, dropped=len(test_x) - len(kept_x))


@dataclass
class Fitted:
    pipeline: Any
    thresholds: dict[str, float | None]
    validation: dict[str, Any]
    fit_seconds: float
    fit_cpu_seconds: float
    trained_on: int


def fit_like_the_product(texts: list[str], labels: list[str], *, targets: Any, embeddings: bool = True) -> Fitted:
    """`embeddings`: as the task's training asks (they are used only where the sentence encoder is installed)."""
    from saypro.ml import services as ml

    _, held = ml.validation_split(texts, labels)
    held_texts = [texts[i] for i in held]
    held_labels = [labels[i] for i in held]
    seen = {ml.normalise(text) for text in held_texts}
    pairs = [(t, y) for t, y in zip(texts, labels, strict=True) if ml.normalise(t) not in seen]
    train_x, train_y = [t for t, _ in pairs], [y for _, y in pairs]
    started, started_cpu = time.perf_counter(), time.process_time()
    pipeline = ml._pipeline_for(train_x, train_y, embeddings=None if embeddings else False).fit(train_x, train_y)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    figures, thresholds = ml.validation_figures(pipeline, held_texts, held_labels, targets=targets)
    return Fitted(pipeline, thresholds, figures, seconds, cpu_seconds, len(train_x))


def latency_ms(pipeline: Any, texts: list[str], *, calls: int = 300) -> tuple[float, float, float, float]:
    """Single predict_proba calls, in milliseconds: wall-clock median and p95, then CPU-time median and p95 (on a
    machine shared with other work the CPU time is the one-core cost; the first call is not counted). The
    sentence encoder's memory of texts it has seen is emptied before each call: every call encodes afresh."""
    from saypro.ml.embeddings import encoder

    model = encoder()
    pipeline.predict_proba([texts[0]])
    wall, cpu = [], []
    for text in (texts * (calls // max(1, len(texts)) + 1))[:calls]:
        if model is not None:
            model.forget()
        started, started_cpu = time.perf_counter(), time.thread_time()
        pipeline.predict_proba([text])
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    wall.sort()
    cpu.sort()
    p95 = int(0.95 * (len(wall) - 1))
    return statistics.median(wall), wall[p95], statistics.median(cpu), cpu[p95]


def print_latency(pipeline: Any, texts: list[str]) -> None:
    wall, wall95, cpu, cpu95 = latency_ms(pipeline, texts)
    print(
        f"  one prediction on one core: median {wall:.2f} ms, p95 {wall95:.2f} ms wall-clock; "
        f"CPU time median {cpu:.2f} ms, p95 {cpu95:.2f} ms"
    )


def print_quality(truth: list[str], predicted: list[str]) -> None:
    from saypro.ml.services import label_figures

    figures = label_figures(truth, predicted)
    print(f"  accuracy {figures['accuracy']:.2%}   macro F1 {figures['macro_f1']:.2%}")


def print_per_class(
    truth: list[str], predicted: list[str], *, markdown: bool = False, limit: int | None = None
) -> None:
    from saypro.ml.services import label_figures

    rows = label_figures(truth, predicted)["per_label"]
    if markdown:
        print("| label | precision | recall | F1 | n |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for label, row in rows.items():
            print(f"| {label} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']} |")
        return
    for label, row in sorted(rows.items(), key=lambda item: item[1]["f1"])[:limit]:
        print(
            f"  {label:<44} precision {row['precision']:.3f}  recall {row['recall']:.3f}  "
            f"F1 {row['f1']:.3f}  n={row['support']}"
        )


def at_threshold(scores: list[float], right: list[bool], threshold: float | None) -> tuple[int, float | None]:
    """(items at or above the threshold, share of them right)."""
    if threshold is None:
        return 0, None
    chosen = [ok for score, ok in zip(scores, right, strict=True) if score >= threshold]
    return len(chosen), (sum(chosen) / len(chosen) if chosen else None)
