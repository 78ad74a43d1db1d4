from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from saypro.errors import InvalidInput
from saypro.ml.services import read_labelled_csv, text_model_train


class Command(BaseCommand):
    help = "Train a named text classifier from a labelled CSV and report its cross-validated quality."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="e.g. support.triage, messaging.category, moderation.spam")
        parser.add_argument("--csv", required=True, help="Path to a CSV file with a header row.")
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--label-column", default="label")
        parser.add_argument("--folds", type=int, default=5, help="Cross-validation folds (0 skips evaluation).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            texts, labels = read_labelled_csv(
                options["csv"], text_column=options["text_column"], label_column=options["label_column"]
            )
            self.stdout.write(f"Training {options['name']} on {len(texts)} examples…")
            model = text_model_train(
                name=options["name"], texts=texts, labels=labels, folds=options["folds"], source=options["csv"]
            )
        except (OSError, InvalidInput) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Stored {model} (active)."))
        metrics = model.metrics
        if metrics:
            self.stdout.write(
                f"Cross-validated ({metrics['folds']} folds): accuracy {metrics['accuracy']:.2%}, "
                f"macro F1 {metrics['macro_f1']:.2%}"
            )
            for label, row in metrics["per_label"].items():
                self.stdout.write(
                    f"  {label:<24} precision {row['precision']:.2%}  recall {row['recall']:.2%}  "
                    f"F1 {row['f1']:.2%}  n={row['support']}"
                )
