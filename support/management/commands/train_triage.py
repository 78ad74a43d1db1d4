from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from saypro.errors import InvalidInput
from saypro.ml.services import read_labelled_csv, text_model_train
from support.models import DepartmentTransfer, Ticket
from support.services import TRIAGE_MODEL, ticket_triage


class Command(BaseCommand):
    help = (
        "Train the ticket triage classifier from a labelled CSV (plus, with --with-transfers, the departments "
        "agents moved tickets to), report its cross-validated accuracy and per-department F1, and activate it."
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
            texts, labels = read_labelled_csv(
                options["csv"], text_column=options["text_column"], label_column=options["label_column"]
            )
            if options["with_transfers"]:
                transfers = DepartmentTransfer.objects.values_list("text", "to_department__slug")
                for text, slug in transfers.iterator():
                    texts.append(text)
                    labels.append(slug)
            self.stdout.write(f"Training {TRIAGE_MODEL} on {len(texts)} examples…")
            model = text_model_train(
                name=TRIAGE_MODEL, texts=texts, labels=labels, folds=options["folds"], source=options["csv"]
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
                    f"  {label:<28} precision {row['precision']:.2%}  recall {row['recall']:.2%}  "
                    f"F1 {row['f1']:.2%}  n={row['support']}"
                )
        if not options["no_retriage"]:
            waiting = Ticket.objects.filter(needs_triage=True, department__isnull=True).order_by("created_at")
            moved = sum(ticket_triage(ticket=ticket).department_id is not None for ticket in waiting[:1000])
            self.stdout.write(f"Re-triaged waiting tickets: {moved} now have a department.")
