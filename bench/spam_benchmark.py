"""How well the spam classifier of automatic detection separates spam from ham on data it has not seen.

Splits ../shared/data/spam_train.csv into a stratified training part and a held-out part (20 % by default, fixed
seed), fits the product's pipeline (saypro.ml.services.build_pipeline, as moderation.spam trains it) on the
training part only, and reports on the held-out part:

- precision, recall and F1 of the spam class at the classifier's own decision (the most likely label);
- the same at the two points detection uses: P(spam) ≥ 70 % (the classifier starts adding points) and ≥ 90 %
  (its points alone reach the stricter case threshold for unverified authors);
- fit and prediction time.

    .venv/bin/python bench/spam_benchmark.py
    .venv/bin/python bench/spam_benchmark.py --test-size 0.3 --seed 7 --csv ../shared/data/spam_train.csv

No database is needed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CSV = ROOT.parent / "shared" / "data" / "spam_train.csv"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args()


def scores(truth: list[str], predicted: list[str]) -> tuple[float, float, float, int, int, int]:
    tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p == "spam")
    fp = sum(1 for t, p in zip(truth, predicted, strict=True) if t != "spam" and p == "spam")
    fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t == "spam" and p != "spam")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, tp, fp, fn


def main() -> None:
    args = parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saypro.settings")
    os.environ.setdefault("SAYPRO_VAR_DIR", tempfile.mkdtemp(prefix="spam-bench-"))
    import django

    django.setup()
    from sklearn.model_selection import train_test_split

    from moderation.detection import CLASSIFIER_MIN_PROBABILITY
    from saypro.ml.services import build_pipeline, read_labelled_csv

    texts, labels = read_labelled_csv(args.csv, text_column="text", label_column="label")
    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, test_size=args.test_size, stratify=labels, random_state=args.seed
    )
    started = time.perf_counter()
    pipeline = build_pipeline().fit(train_x, train_y)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    probabilities = pipeline.predict_proba(test_x)[:, list(pipeline.classes_).index("spam")]
    predict_ms = (time.perf_counter() - started) * 1000 / len(test_x)

    print(f"{args.csv.name}: {len(texts)} texts, {labels.count('spam')} spam; seed {args.seed}")
    print(f"trained on {len(train_x)}, held out {len(test_x)} ({test_y.count('spam')} spam)")
    print(f"fit {fit_seconds:.1f} s, prediction {predict_ms:.2f} ms per text")
    print()
    print(f"{'operating point':<34} {'precision':>9} {'recall':>7} {'F1':>6} {'TP':>5} {'FP':>4} {'FN':>4}")
    points = [
        ("most likely label (P ≥ 50 %)", 0.5),
        (f"signal fires (P ≥ {CLASSIFIER_MIN_PROBABILITY * 100:.0f} %)", CLASSIFIER_MIN_PROBABILITY),
    ]
    points.append(("strong signal (P ≥ 90 %)", 0.9))
    for label, threshold in points:
        predicted = ["spam" if p >= threshold else "ham" for p in probabilities]
        precision, recall, f1, tp, fp, fn = scores(test_y, predicted)
        print(f"{label:<34} {precision:>9.3f} {recall:>7.3f} {f1:>6.3f} {tp:>5} {fp:>4} {fn:>4}")


if __name__ == "__main__":
    main()
