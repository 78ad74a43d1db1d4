"""How well the spam classifier of automatic detection separates spam from ham on messages it has not seen, at the
two thresholds detection acts on.

Splits ../shared/data/spam_train.csv into a training part and a held-out part (20 % by default, fixed seed, near-
duplicates of training texts dropped: bench/classifier_kit.py), trains on the training part exactly as
`manage.py train_spam_model` does (validation set split off, calibrated pipeline, the review threshold chosen for
recall >= 0.95 and the auto-hide threshold for precision >= 0.99 on the validation set), and reports on the
held-out part:

- accuracy, macro F1, and precision and recall of spam at the most likely label;
- precision and recall at the review threshold (where the classifier alone opens a case) and at the auto-hide
  threshold (where it alone hides the content), the same for verified and unverified authors: detection maps
  the probability to points that reach each kind's case and hide score exactly there (checked below);
- single-call latency (median, p95) on one core and fit time.

    .venv/bin/python bench/spam_benchmark.py
    .venv/bin/python bench/spam_benchmark.py --test-size 0.3 --seed 7 --csv ../shared/data/spam_train.csv

No database is needed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from classifier_kit import DATA, fit_like_the_product, honest_split, print_latency, print_quality, setup_django


def scores(truth: list[str], flagged: list[bool]) -> tuple[float, float, int, int, int]:
    tp = sum(1 for t, f in zip(truth, flagged, strict=True) if f and t == "spam")
    fp = sum(1 for t, f in zip(truth, flagged, strict=True) if f and t != "spam")
    fn = sum(1 for t, f in zip(truth, flagged, strict=True) if not f and t == "spam")
    return (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0), tp, fp, fn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", type=Path, default=DATA / "spam_train.csv")
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    setup_django()
    from moderation import detection
    from moderation.spam import TARGETS
    from saypro.ml.services import read_labelled_csv

    texts, labels = read_labelled_csv(args.csv, text_column="text", label_column="label")
    split = honest_split(texts, labels, test_size=args.test_size, seed=args.seed)
    fitted = fit_like_the_product(split.train_x, split.train_y, targets=TARGETS, embeddings=False)  # as spam.py
    column = list(fitted.pipeline.classes_).index("spam")
    probability = [float(row[column]) for row in fitted.pipeline.predict_proba(split.test_x)]
    review_at, hide_at = detection.spam_thresholds(fitted.thresholds)

    print(f"{args.csv.name}: {len(texts):,} texts, {labels.count('spam')} spam; seed {args.seed}")
    print(
        f"trained on {fitted.trained_on:,} in {fitted.fit_seconds:.1f} s (validation set "
        f"{fitted.validation['examples']}); held out {len(split.test_x)} ({split.test_y.count('spam')} spam) after "
        f"dropping {split.dropped} near-duplicates of training texts"
    )
    print_latency(fitted.pipeline, split.test_x)
    print_quality(split.test_y, ["spam" if p >= 0.5 else "ham" for p in probability])
    print()
    print(f"{'operating point':<40} {'P(spam) ≥':>9} {'precision':>9} {'recall':>7} {'TP':>5} {'FP':>4} {'FN':>4}")
    points = [
        ("most likely label", 0.5),
        (f"review: a case opens (recall ≥ {TARGETS.review_recall:.0%})", review_at),
        (f"auto-hide (precision ≥ {TARGETS.precision:.0%})", hide_at),
    ]
    for label, threshold in points:
        if threshold is None:
            print(f"{label:<40} {'none':>9}")
            continue
        precision, recall, tp, fp, fn = scores(split.test_y, [p >= threshold for p in probability])
        print(f"{label:<40} {threshold:>9.3f} {precision:>9.3f} {recall:>7.3f} {tp:>5} {fp:>4} {fn:>4}")

    # Detection's points for the classifier alone, for both kinds of author, at the held-out probabilities.
    print()
    for kind, verified in (("unverified", False), ("verified", True)):
        medium_at, high_at = detection.thresholds(verified)
        points_of = [
            detection.classifier_points(p, review_at=review_at, hide_at=hide_at, medium_at=medium_at, high_at=high_at)
            for p in probability
        ]
        opened = [points >= medium_at for points in points_of]
        hidden = [points >= high_at for points in points_of]
        case_precision, case_recall, *_ = scores(split.test_y, opened)
        hide_precision, hide_recall, *_ = scores(split.test_y, hidden)
        print(
            f"{kind:<10} author, classifier alone: cases open for {case_recall:.1%} of spam (precision "
            f"{case_precision:.3f}); hidden {hide_recall:.1%} of spam (precision {hide_precision:.3f})"
        )


if __name__ == "__main__":
    main()
