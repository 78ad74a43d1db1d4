from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from saypro.errors import InvalidInput
from support.services import TRIAGE_MODEL
from support.triage import tickets_retriage_waiting, triage_model_train


class Command(BaseCommand):
    help = (
        "Train the ticket triage classifier from a labelled CSV (plus, with --with-transfers, the departments "
        "agents moved tickets to), report its cross-validated accuracy and per-department F1, and activate it. "
        "A file whose labels are not the departments (e.g. --label-column category) trains its own model, "
        "support.triage:<file name>, and leaves the live router alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", required=True, help="A CSV file with a header row.")
        parser.add_argument("--label-column", default="department", help="department (default) or category.")
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--folds", type=int, default=5, help="Cross-validation folds (0 skips evaluation).")
        parser.add_argument("--with-transfers", action="store_true", help="Add agents' transfers as labelled examples.")
        parser.add_argument(
            "--no-retriage", action="store_true", help="Leave tickets waiting in the triage view as they are."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            model = triage_model_train(
                csv=options["csv"],
                text_column=options["text_column"],
                label_column=options["label_column"],
                with_transfers=options["with_transfers"],
                folds=options["folds"],
            )
        except (OSError, InvalidInput) as exc:
            raise CommandError(str(exc)) from exc
        state = "active" if model.is_active else "inactive"
        self.stdout.write(self.style.SUCCESS(f"Stored {model} ({state}), trained on {model.trained_on:,} examples."))
        if model.name != TRIAGE_MODEL:
            self.stdout.write(
                f"Its labels are not the departments: stored as {model.name}, the live router {TRIAGE_MODEL} "
                "is unchanged."
            )
        metrics = model.metrics
        if metrics:
            self.stdout.write(
                f"Cross-validated ({metrics['folds']} folds): accuracy {metrics['accuracy']:.2%}, "
                f"macro F1 {metrics['macro_f1']:.2%}"
            )
            for label, row in metrics["per_label"].items():
                self.stdout.write(
                    f"  {label:<28} precision {row['precision']:.2%}  recall {row['recall']:.2%}  "
                    f"F1 {row['f1']:.2%}  n={row['support']}"
                )
        figures = model.validation
        if figures:
            auto = figures["auto"]
            threshold = "none reaches the target" if auto["threshold"] is None else f"{auto['threshold']:.2f}"
            self.stdout.write(
                f"Validation ({figures['examples']} held-out examples): accuracy {figures['accuracy']:.2%}, "
                f"routing threshold {threshold}, routes {auto['coverage']:.1%} on its own "
                f"({auto['precision'] or 0:.1%} right; target {auto['target_precision']:.0%})"
            )
        if model.name == TRIAGE_MODEL and model.is_active and not options["no_retriage"]:
            moved = tickets_retriage_waiting()
            self.stdout.write(f"Re-triaged waiting tickets: {moved} now have a department.")
