"""Held-out accuracy of the message category classifier (messaging.category).

There is no message-labelled data yet, so the Bitext customer-service texts (`../shared/data/triage_train.csv`)
stand in: their `intent` column is mapped onto the six message categories with `messaging.classification.
BITEXT_INTENTS` (no intent is a policy-violation report; those are left to the rules and agents' labels).
The script holds out a stratified 20 % (fixed seed, near-duplicates of training texts dropped:
bench/classifier_kit.py), trains the rest exactly as `manage.py train_message_classifier` does (validation set
split off, calibrated pipeline, the threshold for 97 % right chosen on the validation set) and reports, on the
held-out texts:

- the classifier alone: accuracy, macro F1 and per-category precision and recall;
- arrival categorisation as the product runs it (keyword rules first, then the classifier at its chosen
  threshold; below it the category is left for an agent): how many texts it decides, and how many are right;
- single-call latency (median, p95) on one core.

    .venv/bin/python bench/messaging_classifier.py
    .venv/bin/python bench/messaging_classifier.py --csv ../shared/data/triage_train.csv --seed 7
"""

from __future__ import annotations

import argparse

from classifier_kit import (
    DATA,
    fit_like_the_product,
    honest_split,
    print_latency,
    print_per_class,
    print_quality,
    setup_django,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", default=str(DATA / "triage_train.csv"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-size", type=float, default=0.2)
    args = parser.parse_args()
    setup_django()
    from messaging.classification import TARGETS, bitext_examples, rule_category

    texts, labels = bitext_examples(args.csv)
    split = honest_split(texts, labels, test_size=args.test_size, seed=args.seed)
    fitted = fit_like_the_product(split.train_x, split.train_y, targets=TARGETS)
    probabilities = fitted.pipeline.predict_proba(split.test_x)
    classes = [str(label) for label in fitted.pipeline.classes_]
    predicted = [classes[int(row.argmax())] for row in probabilities]
    confidence = [float(row.max()) for row in probabilities]
    threshold = fitted.thresholds["auto"]

    print(
        f"{args.csv}: {len(texts):,} mapped texts; trained on {fitted.trained_on:,} in {fitted.fit_seconds:.1f} s "
        f"(validation set {fitted.validation['examples']}), held out {len(split.test_x):,} after dropping "
        f"{split.dropped} near-duplicates of training texts"
    )
    print_latency(fitted.pipeline, split.test_x)
    print("classifier alone:")
    print_quality(split.test_y, predicted)
    print_per_class(split.test_y, predicted)

    decided = right = by_rule = rule_right = 0
    for text, truth, guess, sure in zip(split.test_x, split.test_y, predicted, confidence, strict=True):
        rule = rule_category(text)
        if rule:
            by_rule += 1
            rule_right += rule == truth
            decided += 1
            right += rule == truth
        elif threshold is not None and sure >= threshold:
            decided += 1
            right += guess == truth
    total = len(split.test_x)
    shown = "none reaches 97 %" if threshold is None else f"{threshold:.3f}"
    print(f"arrival categorisation (rules, then the classifier at its chosen threshold {shown}):")
    print(
        f"  decided automatically {decided:,} of {total:,} ({decided / total:.1%}), "
        f"correct {right:,} of those ({right / max(1, decided):.1%}); {total - decided:,} left for an agent"
    )
    if by_rule:
        print(f"  of which by keyword rules {by_rule:,}, correct {rule_right:,} ({rule_right / by_rule:.1%})")


if __name__ == "__main__":
    main()
