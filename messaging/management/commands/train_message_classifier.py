from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from messaging import classification
from saypro.errors import InvalidInput


class Command(BaseCommand):
    help = (
        "Train the next version of the message category classifier (messaging.category) on agents' labels, "
        "optionally starting from a Bitext CSV whose `intent` column is mapped onto the six categories, and "
        "activate it. Prints the cross-validated accuracy and macro F1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bootstrap", help="A CSV with `text` and `intent` columns (e.g. triage_train.csv).")
        parser.add_argument("--folds", type=int, default=5, help="Cross-validation folds (0: no evaluation).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            model = classification.retrain(bootstrap_csv=options["bootstrap"], folds=options["folds"])
        except (InvalidInput, FileNotFoundError) as exc:
            raise CommandError(str(getattr(exc, "message", exc))) from None
        self.stdout.write(self.style.SUCCESS(f"{model} trained on {model.trained_on:,} examples ({model.source})."))
        metrics = model.metrics
        if metrics:
            self.stdout.write(
                f"  {metrics['folds']}-fold accuracy {metrics['accuracy']:.3f}, macro F1 {metrics['macro_f1']:.3f}"
            )
            for label, row in metrics["per_label"].items():
                self.stdout.write(f"  {label:<10} F1 {row['f1']:.3f}  (n={row['support']})")
        figures = model.validation
        if figures:
            auto = figures["auto"]
            threshold = "none reaches the target" if auto["threshold"] is None else f"{auto['threshold']:.2f}"
            self.stdout.write(
                f"  validation ({figures['examples']} held-out examples): accuracy {figures['accuracy']:.3f}, "
                f"threshold {threshold}, decides {auto['coverage']:.1%} on its own ({auto['precision'] or 0:.1%} right)"
            )
