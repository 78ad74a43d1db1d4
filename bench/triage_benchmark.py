"""How well the shared text classifier triages support tickets: 5-fold cross-validated accuracy and per-label F1.

    .venv/bin/python bench/triage_benchmark.py                      # both data sets
    .venv/bin/python bench/triage_benchmark.py --data triage         # departments of the Bitext tickets only
    .venv/bin/python bench/triage_benchmark.py --data banking77      # the hard benchmark: 77 banking intents

It runs saypro.ml.services.evaluate, the same evaluation `manage.py train_triage` stores with every model, on the
labelled files in ../shared/data (read in place, never copied). No database is touched.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
SETS = {
    "triage": ("triage_train.csv", "department"),
    "banking77": ("banking77_train.csv", "category"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", choices=[*SETS, "all"], default="all")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=DATA)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saypro.settings")
    import django

    django.setup()
    from saypro.ml.services import evaluate, read_labelled_csv

    for name in SETS if args.data == "all" else [args.data]:
        filename, label_column = SETS[name]
        texts, labels = read_labelled_csv(args.data_dir / filename, label_column=label_column)
        started = time.monotonic()
        result = evaluate(texts, labels, folds=args.folds)
        seconds = time.monotonic() - started
        print(
            f"\n{filename}: {len(texts):,} texts, {len(set(labels))} labels, "
            f"{result['folds']}-fold CV in {seconds:.0f} s"
        )
        print(f"  accuracy {result['accuracy']:.2%}   macro F1 {result['macro_f1']:.2%}")
        rows = sorted(result["per_label"].items(), key=lambda item: item[1]["f1"])
        shown = rows if len(rows) <= 12 else [*rows[:5], None, *rows[-3:]]
        for row in shown:
            if row is None:
                print("  …")
                continue
            label, figures = row
            print(
                f"  {label:<40} F1 {figures['f1']:.2%}  precision {figures['precision']:.2%}  "
                f"recall {figures['recall']:.2%}  n={figures['support']}"
            )


if __name__ == "__main__":
    main()
