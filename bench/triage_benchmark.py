"""How well the shared text classifier triages support tickets, on held-out texts it has never seen.

    .venv/bin/python bench/triage_benchmark.py                      # both data sets
    .venv/bin/python bench/triage_benchmark.py --data triage         # departments of the Bitext tickets only
    .venv/bin/python bench/triage_benchmark.py --data banking77      # the hard benchmark: 77 banking intents
    .venv/bin/python bench/triage_benchmark.py --data banking77 --cv # plus 5-fold CV on the whole file
    .venv/bin/python bench/triage_benchmark.py --per-class markdown  # the per-class table for docs/CLASSIFIERS.md

For each file in ../shared/data (read in place, never copied): a stratified 20 % is held out and its
near-duplicates of training texts are dropped (bench/classifier_kit.py); the rest is trained exactly as
`manage.py train_triage` does (validation set split off, calibrated pipeline, 97 %-precision routing threshold
chosen on the validation set). Printed: accuracy and macro F1 on the held-out texts, how many the threshold routes
automatically and how many of those are right, single-call latency (median, p95) on one core, fit time and the
per-class precision and recall. No database is touched. With the optional sentence encoder installed
(requirements-embeddings.txt) the product, and so this benchmark, adds its embeddings to the n-grams.
"""

from __future__ import annotations

import argparse
import time

from classifier_kit import (
    DATA,
    at_threshold,
    fit_like_the_product,
    honest_split,
    print_latency,
    print_per_class,
    print_quality,
    setup_django,
)

SETS = {
    "triage": ("triage_train.csv", "department"),
    "banking77": ("banking77_train.csv", "category"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", choices=[*SETS, "all"], default="all")
    parser.add_argument("--data-dir", type=lambda p: __import__("pathlib").Path(p), default=DATA)
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cv", action="store_true", help="Also 5-fold cross-validate on the whole file (slow).")
    parser.add_argument("--per-class", choices=["worst", "all", "markdown"], default="worst")
    args = parser.parse_args()
    setup_django()
    from saypro.ml.embeddings import encoder_name
    from saypro.ml.services import evaluate, read_labelled_csv
    from support.triage import TARGETS

    print(f"features: word and character n-grams{f' + {encoder_name()} sentence embeddings' if encoder_name() else ''}")

    for name in SETS if args.data == "all" else [args.data]:
        filename, label_column = SETS[name]
        texts, labels = read_labelled_csv(args.data_dir / filename, label_column=label_column)
        split = honest_split(texts, labels, test_size=args.test_size, seed=args.seed)
        fitted = fit_like_the_product(split.train_x, split.train_y, targets=TARGETS)
        probabilities = fitted.pipeline.predict_proba(split.test_x)
        classes = [str(label) for label in fitted.pipeline.classes_]
        predicted = [classes[int(row.argmax())] for row in probabilities]
        confidence = [float(row.max()) for row in probabilities]
        right = [p == t for p, t in zip(predicted, split.test_y, strict=True)]
        print(
            f"\n{filename}: {len(texts):,} texts, {len(set(labels))} labels; held out {len(split.test_x):,} "
            f"after dropping {split.dropped} near-duplicates of training texts; trained on {fitted.trained_on:,} "
            f"in {fitted.fit_seconds:.0f} s ({fitted.fit_cpu_seconds:.0f} s of CPU; "
            f"validation set {fitted.validation['examples']:,})"
        )
        print_quality(split.test_y, predicted)
        threshold = fitted.thresholds["auto"]
        decided, share = at_threshold(confidence, right, threshold)
        print(
            f"  mean confidence {sum(confidence) / len(confidence):.2%} (calibrated); routing threshold "
            f"{'none' if threshold is None else f'{threshold:.3f}'} (validation precision target "
            f"{TARGETS.precision:.0%}): routes {decided / len(right):.1%} on its own, "
            f"{'–' if share is None else f'{share:.2%}'} of them right"
        )
        print_latency(fitted.pipeline, split.test_x)
        if args.cv:
            started = time.monotonic()
            result = evaluate(texts, labels, folds=5)
            print(
                f"  5-fold CV on the whole file: accuracy {result['accuracy']:.2%}, macro F1 {result['macro_f1']:.2%} "
                f"({time.monotonic() - started:.0f} s)"
            )
        if args.per_class == "worst":
            print("  weakest labels:")
            print_per_class(split.test_y, predicted, limit=8)
        else:
            print_per_class(split.test_y, predicted, markdown=args.per_class == "markdown")


if __name__ == "__main__":
    main()
