"""The demo's frame: the quarter, the context every phase works in, and the order the phases run in.

`seed()` runs the sign-ups first (every other phase builds on their users), then the independent domains side by
side in a small process pool (each domain's phases in order, in one process), then the work waiting for the demo
staff logins, through the product's services. Each phase draws from its own random stream, derived from the seed
and the phase's dotted path, so the data does not depend on which process ran a phase, nor on a phase added later.
Phases generate and insert in batches (bulk_create, one transaction per batch), so memory stays bounded by the
batch and an interrupted run leaves whole batches only.
"""

from __future__ import annotations

import bisect
import random
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from multiprocessing import current_process, get_context
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections, models, reset_queries
from django.utils.module_loading import import_string
from tqdm import tqdm

from accounts.models import User
from saypro.sla.models import Clock, ClockEvent
from saypro.sla.replay import Replayed, clocks_insert

T = TypeVar("T")

DEFAULT_BATCH_SIZE = 5000
PERIOD_DAYS = 91
# The days of a quarter's items are drawn this many at a time (see daily_counts).
DAY_DRAW_SLICE = 10_000

# Every other phase builds on the users this one writes.
SIGNUPS = "demo.accounts.accounts_phase"
# Domains that only read the users: each runs its phases in order, the domains side by side.
DOMAINS: tuple[tuple[str, ...], ...] = (
    # Moderation replays detection and decisions over the listings the marketplace phase planned.
    ("demo.marketplace.marketplace_phase", "demo.moderation.moderation_phase"),
    ("demo.activity.activity_phase",),
    ("demo.messaging.messaging_phase",),
    ("demo.support.support_phase",),
)
# After the domains, in this process: the comment topics of the quarter, then the live queues the demo logins open
# on (items placed relative to now through the services, after the quarter).
WORK = (
    "demo.support.comment_topics_phase",
    "demo.work.registrations_work_phase",
    "demo.messaging.messaging_work_phase",
    "demo.support.support_work_phase",
    "demo.moderation.moderation_work_phase",
    # Last, so the live queues above are placed as before; routing from then on follows the shifts.
    "demo.shifts.shifts_phase",
)


class Weighted:
    """A fixed list of values with weights, drawn with a caller's random stream."""

    def __init__(self, pairs: Sequence[tuple[Any, float]]):
        self.values = [value for value, _ in pairs]
        total = 0.0
        self.cum_weights = []
        for _, weight in pairs:
            total += weight
            self.cum_weights.append(total)

    def pick(self, rng: random.Random) -> Any:
        return rng.choices(self.values, cum_weights=self.cum_weights)[0]


def daily_counts(rng: random.Random, total: int, weights: Sequence[float]) -> list[int]:
    """How many of `total` items fall on each day, a day drawn with `weights` for each item: slice by slice, so
    that phases planning day by day never hold a list of the quarter's draws."""
    counts = [0] * len(weights)
    for start in range(0, total, DAY_DRAW_SLICE):
        for day in rng.choices(range(len(weights)), weights=weights, k=min(DAY_DRAW_SLICE, total - start)):
            counts[day] += 1
    return counts


@dataclass(frozen=True)
class Period:
    """The demo quarter: PERIOD_DAYS local days up to `end` (the start of the --end day, in TIME_ZONE)."""

    start: datetime
    end: datetime
    tz: ZoneInfo

    @classmethod
    def ending(cls, end: date, *, days: int = PERIOD_DAYS) -> Period:
        tz = ZoneInfo(settings.TIME_ZONE)
        return cls(
            start=datetime.combine(end - timedelta(days=days), time.min, tzinfo=tz).astimezone(UTC),
            end=datetime.combine(end, time.min, tzinfo=tz).astimezone(UTC),
            tz=tz,
        )

    @property
    def first_day(self) -> date:
        return self.start.astimezone(self.tz).date()

    @property
    def days(self) -> int:
        return (self.end.astimezone(self.tz).date() - self.first_day).days

    def day_index(self, moment: datetime) -> int:
        return (moment.astimezone(self.tz).date() - self.first_day).days


@dataclass(frozen=True, slots=True)
class DemoUser:
    """What later phases need to know about an approved marketplace user."""

    pk: int
    email: str
    full_name: str
    country: str
    language: str
    region: str
    joined_at: datetime
    decided_at: datetime


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _approved(*fields: str) -> Any:
    from accounts.models import Registration, RegistrationStatus

    return (
        Registration.objects.filter(status=RegistrationStatus.APPROVED, decided_at__isnull=False, user__is_staff=False)
        .order_by(*fields)
        .values_list(
            "user_id",
            "user__email",
            "user__full_name",
            "user__country",
            "user__language",
            "user__region",
            "user__date_joined",
            "decided_at",
        )
    )


def approved_users(ctx: DemoContext, *, latest: int | None = None) -> Iterator[DemoUser]:
    """The approved users in the order they signed up (only the `latest` ones, when given), read from the
    database a batch at a time."""
    if latest is not None:
        yield from (DemoUser(*row) for row in reversed(_approved("-user_id")[:latest]))
        return
    for row in _approved("user_id").iterator(chunk_size=ctx.batch_size):
        yield DemoUser(*row)


class Roster:
    """The approved users in the order they were approved, for phases that draw "someone approved by then".

    Read from the database in batches and kept as machine integers (ids, moments, indexes into small tables of
    the countries', languages', regions' and names' few distinct values): 26 bytes a user, where a list of
    user objects would take ten times as much in every process that draws from it. The e-mail address is left
    out (the phases that need one read it from the database)."""

    def __init__(self, ctx: DemoContext):
        self.pks, self.joined, self.decided = array("q"), array("q"), array("q")
        self.codes: dict[str, array[int]] = {name: array("H") for name in ("country", "language", "region")}
        self.first, self.last = array("H"), array("H")
        self.tables: dict[str, list[str]] = {name: [] for name in ("country", "language", "region", "name")}
        self._index: dict[str, dict[str, int]] = {name: {} for name in self.tables}
        rows = _approved("decided_at", "user_id").iterator(chunk_size=ctx.batch_size)
        for pk, _email, full_name, country, language, region, joined_at, decided_at in rows:
            self.pks.append(pk)
            self.joined.append(micros(joined_at))
            self.decided.append(micros(decided_at))
            for name, value in (("country", country), ("language", language), ("region", region)):
                self.codes[name].append(self._code(name, value))
            # "First Last": two indexes into the table of name parts rebuild the name exactly.
            first, _, last = full_name.partition(" ")
            self.first.append(self._code("name", first))
            self.last.append(self._code("name", last if _ else "\0"))

    def _code(self, table: str, value: str) -> int:
        index = self._index[table]
        if value not in index:
            index[value] = len(self.tables[table])
            self.tables[table].append(value)
        return index[value]

    def __len__(self) -> int:
        return len(self.pks)

    def __getitem__(self, i: int) -> DemoUser:
        names = self.tables["name"]
        last = names[self.last[i]]
        return DemoUser(
            pk=self.pks[i],
            email="",
            full_name=names[self.first[i]] if last == "\0" else f"{names[self.first[i]]} {last}",
            country=self.tables["country"][self.codes["country"][i]],
            language=self.tables["language"][self.codes["language"][i]],
            region=self.tables["region"][self.codes["region"][i]],
            joined_at=_EPOCH + timedelta(microseconds=self.joined[i]),
            decided_at=_EPOCH + timedelta(microseconds=self.decided[i]),
        )

    def approved_by(self, moment: datetime, *, inclusive: bool = True) -> int:
        """How many were approved by `moment` (at it too, unless not inclusive): the first n can be drawn."""
        find = bisect.bisect_right if inclusive else bisect.bisect_left
        return find(self.decided, micros(moment))


@dataclass
class DemoContext:
    seed: int
    user_count: int
    period: Period
    batch_size: int = DEFAULT_BATCH_SIZE
    show_progress: bool = False
    # Replaced by seed() before each phase with that phase's own stream.
    rng: random.Random = field(default_factory=random.Random)
    created: Counter[str] = field(default_factory=Counter)
    # The progress bar line of the process running the phase (0 in the main process).
    position: int = 0
    _roster: Roster | None = None

    def roster(self) -> Roster:
        """The approved users, read once per process (a forked worker reads its own: nothing is inherited)."""
        if self._roster is None:
            self._roster = Roster(self)
        return self._roster

    def bar(self, *, total: int, desc: str, unit: str = "rows") -> tqdm:
        return tqdm(
            total=total,
            desc=desc,
            unit=unit,
            file=sys.stderr,
            disable=not self.show_progress,
            dynamic_ncols=True,
            mininterval=0.5,
            position=self.position,
            leave=self.position == 0,
        )

    def insert(self, model: type[models.Model], rows: list[Any], **options: Any) -> list[Any]:
        """Bulk-insert inside the caller's batch transaction; Django splits further for SQLite's variable limit."""
        created = model._default_manager.bulk_create(rows, batch_size=self.batch_size, **options)
        self.created[model._meta.label] += len(rows)
        # With DEBUG on (`make seed`), Django keeps the SQL of the last 9,000 queries: a bulk insert's is megabytes.
        reset_queries()
        return created

    def insert_clocks(self, replayed: Sequence[tuple[Replayed, ContentType, int]]) -> list[Clock]:
        """Replayed SLA clocks on their targets (content type, id), with their events."""
        clocks, events = clocks_insert(replayed, batch_size=self.batch_size)
        reset_queries()
        self.created[Clock._meta.label] += len(clocks)
        self.created[ClockEvent._meta.label] += events
        return clocks

    def batches(self, items: Iterable[T]) -> Iterator[list[T]]:
        """Consecutive batches of `items`, read lazily: a generator is never held whole."""
        iterator = iter(items)
        while batch := list(islice(iterator, self.batch_size)):
            yield batch
            reset_queries()  # what the batch's bulk updates logged (see insert)


Phase = Callable[[DemoContext], None]


def run_phase(ctx: DemoContext, path: str) -> None:
    phase: Phase = import_string(path)
    ctx.rng = random.Random(f"{ctx.seed}:{path}")
    phase(ctx)


def default_jobs() -> int:
    """Two processes, except on SQLite: one file takes one writer at a time, so a second process only waits."""
    return 1 if connection.vendor == "sqlite" else 2


def seed(
    *,
    users: int,
    seed: int,
    end: date,
    batch_size: int = DEFAULT_BATCH_SIZE,
    show_progress: bool = False,
    phases: Sequence[str] | None = None,
    jobs: int | None = None,
) -> DemoContext:
    """Generate the demo data; the same arguments always produce the same rows (primary keys aside).

    `phases` runs just those phases, in order, in this process (the tests seed one domain at a time).
    """
    ctx = DemoContext(
        seed=seed, user_count=users, period=Period.ending(end), batch_size=batch_size, show_progress=show_progress
    )
    if phases is not None:
        for path in phases:
            run_phase(ctx, path)
        return ctx
    run_phase(ctx, SIGNUPS)
    jobs = default_jobs() if jobs is None else jobs
    # Another process cannot see the sign-ups while the caller's transaction (a test's) holds them uncommitted.
    if jobs <= 1 or connection.in_atomic_block:
        for group in DOMAINS:
            for path in group:
                run_phase(ctx, path)
    else:
        _run_side_by_side(ctx, jobs)
    for path in WORK:
        run_phase(ctx, path)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Millions of rows just written and no statistics yet: until autovacuum gets to them, the planner would
        # take the tables for empty and walk indexes row by row (the first rollup refresh, the reports).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return ctx


# The context a forked worker starts from: set before the pool forks, read by _run_group in the child.
_shared: DemoContext | None = None


def _run_group(group: tuple[str, ...]) -> Counter[str]:
    assert _shared is not None
    ctx = _shared
    # A pool's workers are named ForkProcess-1, -2, …: each draws its progress bars on its own line.
    ctx.created, ctx.position = Counter(), int(current_process().name.rsplit("-", 1)[-1])
    for path in group:
        run_phase(ctx, path)
    connections.close_all()
    return ctx.created


def _run_side_by_side(ctx: DemoContext, jobs: int) -> None:
    global _shared
    # A forked child must not share the parent's database connection: each opens its own.
    connections.close_all()
    _shared = ctx
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
            # The longest domain first, so the other process takes the rest meanwhile.
            futures = [pool.submit(_run_group, group) for group in DOMAINS]
            for future in futures:
                ctx.created.update(future.result())
    finally:
        _shared = None


def has_marketplace_users() -> bool:
    return User.objects.filter(is_staff=False).exists()
