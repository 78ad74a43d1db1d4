from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from moderation.spam import spam_model_train, training_csv
from saypro.errors import InvalidInput


class Command(BaseCommand):
    help = (
        "Train the spam classifier of automatic detection (moderation.spam) from MODERATION_SPAM_CSV (or --csv) and "
        "the moderators' decisions, store it as the next active version and report its cross-validated quality."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", help="A CSV with text and label (spam/ham) columns; default MODERATION_SPAM_CSV.")
        parser.add_argument("--no-decisions", action="store_true", help="Leave the moderators' decisions out.")
        parser.add_argument("--folds", type=int, default=5, help="Cross-validation folds (0 skips evaluation).")

    def handle(self, *args: Any, **options: Any) -> None:
        csv = Path(options["csv"]) if options["csv"] else training_csv()
        if csv is not None and not csv.is_file():
            raise CommandError(f"No such file: {csv}")
        try:
            model = spam_model_train(csv=csv, with_decisions=not options["no_decisions"], folds=options["folds"])
        except (OSError, InvalidInput) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Stored {model} (active), trained on {model.trained_on} examples: {model.source}.")
        )
        spam = model.metrics.get("per_label", {}).get("spam")
        if spam:
            self.stdout.write(
                f"Cross-validated ({model.metrics['folds']} folds): spam precision {spam['precision']:.1%}, "
                f"recall {spam['recall']:.1%}, F1 {spam['f1']:.1%}; accuracy {model.metrics['accuracy']:.1%}"
            )
        figures = model.validation
        if figures:
            review, hide = figures.get("review", {}), figures.get("auto", {})

            def shown(value: float | None) -> str:
                return "none meets the target" if value is None else f"P(spam) ≥ {value:.3f}"

            self.stdout.write(
                f"Validation ({figures['examples']} held-out examples): review {shown(review.get('threshold'))} "
                f"(recall {review.get('recall') or 0:.1%}), auto-hide {shown(hide.get('threshold'))} "
                f"(precision {hide.get('precision') or 0:.1%}, recall {hide.get('recall') or 0:.1%})"
            )
