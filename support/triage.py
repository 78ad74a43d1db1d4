"""Training the ticket triage classifier (`support.triage`, the shared saypro.ml recipe).

It learns departments from a labelled CSV and from agents' transfers: every DepartmentTransfer is a correction
(the ticket's text, and the department it belonged in). `manage.py train_triage --csv PATH [--with-transfers]`
trains by hand; the weekly beat task (support.tasks.retrain_triage_model) refits the active version on the file
it was trained from plus the transfers, once RETRAIN_MIN_NEW_TRANSFERS have come in since it was trained, and the
refit takes over only if it does at least as well on the task's validation set. A file whose labels are not the
departments trains its own model key and never replaces the router.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from saypro.errors import InvalidInput
from saypro.ml.models import TextModel
from saypro.ml.services import Targets, read_labelled_csv, text_model_train

from .models import Department, DepartmentTransfer, Ticket, TriageSource
from .services import TRIAGE_MODEL, ticket_triage

logger = logging.getLogger(__name__)

# A few corrections are noise; a weekly refit is worth it once agents have moved this many tickets.
RETRAIN_MIN_NEW_TRANSFERS = 20
RETRIAGE_LIMIT = 1000
# A ticket routed without a person looking must be in the right department 97 times in 100.
TARGETS = Targets(precision=0.97)
# How a version trained by triage_model_train names its data: the CSV's absolute path, then the transfers.
_SOURCE = re.compile(r"^(?P<csv>.+?)(?: \+ \d+ transfers)?$")


def transfer_examples() -> tuple[list[str], list[str]]:
    """(texts, department slugs) of agents' transfers, the latest per ticket (a second move corrects the first)."""
    latest: dict[int, tuple[str, str]] = {}
    rows = DepartmentTransfer.objects.order_by("at", "pk").values_list("ticket_id", "text", "to_department__slug")
    for ticket_id, text, slug in rows.iterator():
        latest[ticket_id] = (text, slug)
    return [text for text, _ in latest.values()], [slug for _, slug in latest.values()]


def model_name_for(labels: list[str], *, csv: Path) -> str:
    """The live router (support.triage) only when every label is a department; a file with other labels (say the
    banking77 intents) trains a model of its own, `support.triage:<file name>`, which routes nothing."""
    departments = set(Department.objects.values_list("slug", flat=True))
    if set(labels) <= departments:
        return TRIAGE_MODEL
    return f"{TRIAGE_MODEL}:{csv.stem}"[:50]


def triage_model_train(
    *,
    csv: str | Path,
    text_column: str = "text",
    label_column: str = "department",
    with_transfers: bool = False,
    folds: int = 5,
    only_if_not_worse: bool = False,
) -> TextModel:
    """Train the next version on the CSV (plus the transfers) and activate it (a refit, `only_if_not_worse`, only
    when it does at least as well on the validation set). Raises OSError for a missing file and InvalidInput for
    unusable data."""
    path = Path(csv).resolve()
    texts, labels = read_labelled_csv(path, text_column=text_column, label_column=label_column)
    name = model_name_for(labels, csv=path)
    source = str(path)
    if with_transfers and name == TRIAGE_MODEL:
        transfer_texts, transfer_labels = transfer_examples()
        texts += transfer_texts
        labels += transfer_labels
        source += f" + {len(transfer_texts)} transfers"
    return text_model_train(
        name=name,
        texts=texts,
        labels=labels,
        folds=folds,
        source=source,
        targets=TARGETS,
        only_if_not_worse=only_if_not_worse,
    )


def tickets_retriage_waiting(*, limit: int = RETRIAGE_LIMIT) -> int:
    """Run triage again on the tickets waiting in the triage view (after a new version); returns how many now
    have a department."""
    waiting = Ticket.objects.filter(needs_triage=True, department__isnull=True).order_by("created_at")
    return sum(ticket_triage(ticket=ticket, again=True).department_id is not None for ticket in waiting[:limit])


def triage_model_retrain(*, min_new_transfers: int = RETRAIN_MIN_NEW_TRANSFERS) -> TextModel | None:
    """The weekly refit: the active version's CSV plus every transfer, when enough transfers are new.

    Nothing happens without an active version (the first one is trained by hand, from a file someone chose),
    with fewer new transfers than `min_new_transfers`, or when the active version's file is gone or unusable."""
    active = TextModel.objects.filter(name=TRIAGE_MODEL, is_active=True).first()
    if active is None:
        return None
    if DepartmentTransfer.objects.filter(at__gt=active.created_at).count() < min_new_transfers:
        return None
    match = _SOURCE.match(active.source)
    csv = Path(match["csv"]) if match else None
    if csv is None or not csv.is_file():
        logger.warning("%s not retrained: its training file %r is not here.", active, active.source)
        return None
    try:
        model = triage_model_train(csv=csv, with_transfers=True, folds=0, only_if_not_worse=True)
    except InvalidInput as exc:
        logger.warning("%s not retrained: %s", active, exc.message)
        return None
    if model.is_active:
        tickets_retriage_waiting()
    return model


def triage_model_rebuild() -> TextModel | None:
    """Retrain the live router on the active version's file and the transfers, whatever their number (its pickle
    is from another scikit-learn version)."""
    return triage_model_retrain(min_new_transfers=0)


def decisions_since(version: int) -> int:
    """Tickets the version routed on its own."""
    return Ticket.objects.filter(triage_model_version=version, triage_source=TriageSource.MODEL).count()
