"""The report's glossary: every registered figure's definition, written from the registry beside its query, then
the definitions of the measures the registry does not hold (yet) as figures."""

from __future__ import annotations

from saypro.figures.registry import figure_specs

OTHER_MEASURES: tuple[tuple[str, str], ...] = (
    ("At risk", "At risk = open with more than 75 % of its target elapsed."),
    (
        "Retention",
        'Retention: N-week cohorts by sign-up week, both "returned in week N" and "returned in week N or later".',
    ),
    (
        "n, pending, to date",
        "n = the number of items a figure was computed from; pending = items of the period still inside their "
        "deadline, counted once it passes; to date = a period still running, compared with the same elapsed span "
        "of the period before.",
    ),
)


def glossary() -> list[tuple[str, str]]:
    """Every registered figure's definition, then the other measures'."""
    return [
        (
            spec.label,
            f"{spec.definition} Counted over {spec.population}, each placed in a period by {spec.placed_by}. "
            f"Source: document {spec.source}.",
        )
        for spec in figure_specs()
    ] + list(OTHER_MEASURES)
