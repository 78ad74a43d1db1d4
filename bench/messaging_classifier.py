"""Held-out accuracy of the message category classifier (messaging.category).

There is no message-labelled data yet, so the Bitext customer-service texts (`../shared/data/triage_train.csv`)
stand in: their `intent` column is mapped onto the six message categories with `messaging.classification.
BITEXT_INTENTS` (no intent is a policy-violation report; those are left to the rules and agents' labels).
The script holds out a stratified 20 % (fixed seed), fits the shared recipe (saypro.ml.services.build_pipeline)
on the rest and reports, on the held-out texts:

- the classifier alone: accuracy, macro F1 and per-category F1;
- arrival categorisation as the product runs it (keyword rules first, then the classifier; below the confidence
  threshold the category is left for an agent): how many texts it decides, and how many of those are right.

    .venv/bin/python bench/messaging_classifier.py
    .venv/bin/python bench/messaging_classifier.py --csv ../shared/data/triage_train.csv --seed 7 --threshold 0.6
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saypro.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", default=str(ROOT.parent / "shared" / "data" / "triage_train.csv"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--threshold", type=float, default=None, help="Default: MESSAGING_CATEGORY_MIN_CONFIDENCE.")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from sklearn.metrics import accuracy_score, classification_report, f1_score
    from sklearn.model_selection import train_test_split

    from messaging.classification import bitext_examples, rule_category
    from saypro.ml.services import build_pipeline

    threshold = settings.MESSAGING_CATEGORY_MIN_CONFIDENCE if args.threshold is None else args.threshold
    texts, labels = bitext_examples(args.csv)
    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, test_size=args.test_size, stratify=labels, random_state=args.seed
    )
    started = time.monotonic()
    pipeline = build_pipeline().fit(train_x, train_y)
    fit_seconds = time.monotonic() - started
    probabilities = pipeline.predict_proba(test_x)
    predicted = [str(pipeline.classes_[row.argmax()]) for row in probabilities]
    confidence = [float(row.max()) for row in probabilities]

    print(f"{args.csv}: {len(texts):,} mapped texts, {len(train_x):,} to train, {len(test_x):,} held out")
    print(f"fit in {fit_seconds:.1f} s")
    print(
        f"\nclassifier alone: accuracy {accuracy_score(test_y, predicted):.4f}, "
        f"macro F1 {f1_score(test_y, predicted, average='macro'):.4f}"
    )
    print(classification_report(test_y, predicted, digits=3, zero_division=0))

    decided = right = by_rule = rule_right = 0
    for text, truth, guess, sure in zip(test_x, test_y, predicted, confidence, strict=True):
        rule = rule_category(text)
        if rule:
            by_rule += 1
            rule_right += rule == truth
            decided += 1
            right += rule == truth
        elif sure >= threshold:
            decided += 1
            right += guess == truth
    total = len(test_x)
    print(f"arrival categorisation (rules, then the classifier at confidence >= {threshold:.2f}):")
    print(
        f"  decided automatically {decided:,} of {total:,} ({decided / total:.1%}), "
        f"correct {right:,} of those ({right / decided:.1%}); {total - decided:,} left for an agent"
    )
    if by_rule:
        print(f"  of which by keyword rules {by_rule:,}, correct {rule_right:,} ({rule_right / by_rule:.1%})")


if __name__ == "__main__":
    main()
