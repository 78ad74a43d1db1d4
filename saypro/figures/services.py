"""Setting a target: a new row, so that the targets of the periods already reported stay as they were."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from saypro.audit.services import audit_record
from saypro.errors import InvalidInput

from .models import Target
from .registry import target_spec


@transaction.atomic
def target_set(*, figure_key: str, period_start: date, value: float, by: Any, note: str = "") -> Target:
    spec = target_spec(figure_key)
    if spec is None:
        raise InvalidInput(f"No figure has the target {figure_key!r}.", fields={"figure_key": ["Unknown target."]})
    if (spec.minimum is not None and value < spec.minimum) or (spec.maximum is not None and value > spec.maximum):
        raise InvalidInput(
            f"{spec.label}: the target must lie between {spec.minimum:g} and {spec.maximum:g}.",
            fields={"value": [f"Between {spec.minimum:g} and {spec.maximum:g}."]},
        )
    target = Target.objects.create(figure_key=figure_key, period_start=period_start, value=value, set_by=by, note=note)
    audit_record(actor=by, action="target.set", target=target, data={"figure": figure_key, "value": value})
    return target
