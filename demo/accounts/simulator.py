"""Replaying verification, review and the decision over the planned applicants, in screening order."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, time, timedelta

from django.conf import settings

from accounts import screening
from accounts.identity import canonical_email, subnet_of
from accounts.models import DelayCause, User
from demo.accounts.planner import Signup, SignupPlanner, _largest_remainder, _minutes
from demo.accounts.vocabulary import (
    APPROVE_REASONS,
    BACKLOG_SHARE,
    BACKLOG_WINDOW,
    DEFAULT_INFO_REQUEST,
    FRAUD_SHARE,
    INFO_REQUESTS,
    OTHER_DELAY_NOTES,
    REJECT_REASONS,
    Code,
    Status,
)
from saypro.sla.replay import clock_replay

# How many earlier applicants the families sharing a phone are drawn from.
FAMILY_SAMPLE = 5000


class SignupSimulator(SignupPlanner):
    """Plans the quarter's applicants, then replays screening, verification and review over them in time order."""

    # -- review --

    def on_shift(self, moment: datetime) -> datetime:
        """The first moment from `moment` on when reviewers work: 07–22 on weekdays, 08–18 at weekends."""
        local = moment.astimezone(self.period.tz)
        for _ in range(3):
            weekend = local.weekday() >= 5
            opens, closes = (time(8), time(18)) if weekend else (time(7), time(22))
            if local.time() < opens:
                local = datetime.combine(local.date(), opens, tzinfo=self.period.tz)
                return (local + timedelta(minutes=self.rng.uniform(0, 40))).astimezone(UTC)
            if local.time() < closes:
                return local.astimezone(UTC)
            local = datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=self.period.tz)
        return local.astimezone(UTC)

    def reviewer_at(self, moment: datetime) -> User:
        local = moment.astimezone(self.period.tz)
        first, second, third, fourth = self.reviewers
        if local.weekday() == 5:
            on_duty = (first, third)
        elif local.weekday() == 6:
            on_duty = (second, fourth)
        else:
            on_duty = (
                (first, second) if local.hour < 14 or (local.hour == 14 and local.minute < 30) else (third, fourth)
            )
        return self.rng.choice(on_duty)

    def review_wait(self, moment: datetime, *, mean_hours: float) -> datetime:
        """When a reviewer gets to an item queued at `moment`: the next shift, then its turn in the queue."""
        load = 1 + 2 * self.intensity(moment)
        if moment.astimezone(self.period.tz).weekday() >= 5:
            load *= 1.6
        start = self.on_shift(moment)
        return self.on_shift(start + timedelta(hours=self.rng.expovariate(1 / (mean_hours * load))))

    def decide(self, s: Signup) -> None:
        """Replay accounts.services: screening, routing, verification grace, review, decision."""
        rng, end = self.rng, self.period.end
        if s.outage_at is not None:
            s.signals.append(
                (Code.VERIFICATION_UNAVAILABLE, "SMS gateway unavailable: connection timed out", s.outage_at)
            )
        if s.submitted_at is None:
            return
        if s.screened_at is None:
            s.status = Status.SCREENING
            self.finish_clock(s)
            return
        s.signals.extend((code, detail, s.screened_at) for code, detail in self.findings(s, s.screened_at))
        codes = {code for code, _, _ in s.signals}
        review_from: datetime | None = None
        if screening.needs_review(codes, self.score(s)):
            review_from = s.screened_at
        elif self.verified_by(s, s.screened_at):
            self.approve_automatically(s, s.screened_at)
        else:
            grace = s.submitted_at + timedelta(hours=settings.REGISTRATION_VERIFICATION_GRACE_HOURS)
            # The escalation task runs every ten minutes.
            escalate_at = grace + timedelta(minutes=10 - grace.minute % 10, seconds=rng.uniform(1, 20))
            if s.verified_later_at is not None and s.verified_later_at < escalate_at:
                self.verify_later(s)
                self.approve_automatically(s, s.verified_later_at)
            elif escalate_at > end:
                s.status = Status.VERIFYING
            else:
                self.verify_later(s)
                missing = [
                    step
                    for step, at in (("e-mail", s.email_verified_at), ("phone", s.phone_verified_at))
                    if at is None or at > escalate_at
                ]
                s.signals.append((Code.UNVERIFIED, f"{' and '.join(missing)} not verified in time", escalate_at))
                review_from = escalate_at
        if review_from is not None:
            self.review(s, review_from)
        self.finish_clock(s)

    def score(self, s: Signup) -> int:
        return sum(screening.WEIGHTS[code] for code, _, _ in s.signals)

    def verified_by(self, s: Signup, moment: datetime) -> bool:
        return all(at is not None and at <= moment for at in (s.email_verified_at, s.phone_verified_at))

    def verify_later(self, s: Signup) -> None:
        if s.verified_later_at is None:
            return
        s.email_verified_at = s.email_verified_at or s.verified_later_at
        s.phone_verified_at = s.phone_verified_at or s.verified_later_at

    def approve_automatically(self, s: Signup, at: datetime) -> None:
        s.status, s.decided_at, s.auto_approved = Status.APPROVED, at, True
        s.decision_reason = "Verified and low risk"

    def review(self, s: Signup, queued_at: datetime) -> None:
        rng, end = self.rng, self.period.end
        s.status = Status.NEEDS_REVIEW
        codes = {code for code, _, _ in s.signals}
        primary = max(s.signals, key=lambda signal: screening.WEIGHTS[signal[0]])[0] if s.signals else ""
        claimed_at = self.review_wait(queued_at, mean_hours=2.5)
        # The long tail: a campaign's backlog, the SMS outage's pile-up, a fraud ring under investigation.
        p_late = 0.012 + 0.1 * self.intensity(queued_at)
        if Code.VERIFICATION_UNAVAILABLE in codes:
            p_late += 0.45
        if s.fraudulent and rng.random() < 0.04:
            s.investigation = True
            p_late += 1
        if rng.random() < p_late:
            claimed_at = self.on_shift(claimed_at + timedelta(hours=rng.uniform(30, 70)))
        if queued_at >= end - BACKLOG_WINDOW and rng.random() < BACKLOG_SHARE:
            if claimed_at <= end and rng.random() < 0.3:
                s.claimed_by, s.claimed_at = self.reviewer_at(claimed_at), claimed_at
            return
        if claimed_at > end:
            return
        s.claimed_by, s.claimed_at = self.reviewer_at(claimed_at), claimed_at
        reject = rng.random() < (0.93 if s.fraudulent else 0.05)
        decided_at = claimed_at + _minutes(rng, 4, 0.6)
        asks = not s.fraudulent and rng.random() < (0.5 if primary in INFO_REQUESTS else 0.04)
        if asks and decided_at <= end:
            # Instead of deciding, the reviewer asks the applicant; the clock pauses until the answer.
            asked_at = decided_at
            s.info_request, answer = INFO_REQUESTS.get(primary, DEFAULT_INFO_REQUEST)
            answered_at = None if rng.random() < 0.12 else asked_at + timedelta(hours=rng.lognormvariate(1.8, 0.9))
            if answered_at is not None and answered_at <= end:
                s.pauses.append((asked_at, answered_at))
                s.info_response = answer
                if primary == Code.INCOMPLETE_PROFILE:
                    s.profile_completed_at = answered_at
                decided_at = self.review_wait(answered_at, mean_hours=1.5)
            else:
                s.pauses.append((asked_at, None))
                # A request left unanswered for a week is closed with a rejection.
                decided_at = self.on_shift(asked_at + timedelta(days=7))
                if answered_at is not None or decided_at > end:
                    s.status = Status.INFO_REQUESTED
                    return
                reject = True
                s.decision_reason = "No answer to our request for information."
        if decided_at > end:
            return
        s.status = Status.REJECTED if reject else Status.APPROVED
        s.decided_at, s.decided_by = decided_at, self.reviewer_at(decided_at)
        if reject:
            s.decision_reason = s.decision_reason or REJECT_REASONS.get(
                primary, "We could not confirm the applicant's identity."
            )
            for kind, value in (("email", s.canonical), ("phone", s.phone)):
                known = self.fingerprints.get((kind, value))
                if value and (known is None or decided_at < known):
                    self.fingerprints[(kind, value)] = decided_at
        else:
            s.decision_reason = APPROVE_REASONS.get(primary, rng.choice(("", "", "Identity and phone checked.")))

    def finish_clock(self, s: Signup) -> None:
        if s.submitted_at is None:
            return
        stopped = s.decided_at if s.status in (Status.APPROVED, Status.REJECTED) else None
        s.clock = clock_replay(
            policy=self.policy,
            spec=self.spec,
            started_at=s.submitted_at,
            as_of=self.period.end,
            rng=self.rng,
            pauses=s.pauses,
            stopped_at=stopped,
        )
        if s.clock.met is False and not s.auto_approved:
            s.delay_cause = self.delay_cause(s)
            if s.delay_cause == DelayCause.OTHER:
                s.delay_note = self.rng.choice(OTHER_DELAY_NOTES)

    def delay_cause(self, s: Signup) -> str:
        codes = {code for code, _, _ in s.signals}
        if Code.VERIFICATION_UNAVAILABLE in codes:
            return DelayCause.VERIFICATION_OUTAGE
        if s.investigation:
            return DelayCause.FRAUD_INVESTIGATION
        if s.pauses:
            return DelayCause.WAITING_ON_APPLICANT
        if s.submitted_at is not None and self.intensity(s.submitted_at) > 0.2:
            return DelayCause.REVIEW_BACKLOG
        return DelayCause.REVIEW_BACKLOG if self.rng.random() < 0.7 else DelayCause.OTHER

    # -- the whole quarter --

    def run(self) -> Iterator[Signup]:
        """Plan the applicants day by day and yield each one as soon as its outcome is final, in screening order,
        keeping nothing of it: memory holds a day or two of applicants, not the quarter."""
        rng, total, period = self.rng, self.ctx.user_count, self.period
        fraud_count = round(total * rng.uniform(FRAUD_SHARE - 0.005, FRAUD_SHARE + 0.005))
        legit_per_day = _largest_remainder(total - fraud_count, self.traffic)
        self.plan_fraud(fraud_count, total - fraud_count)
        self.plan_block_rules()
        waiting: list[tuple[datetime, int, Signup]] = []
        last = period.days - 1
        with self.ctx.bar(total=total, desc="accounts: screening, review and write", unit="sign-ups") as bar:
            for day in range(period.days):
                self.day = day
                today = [self.legitimate(day) for _ in range(legit_per_day[day])]
                while arrivals := self.arrivals.pop(day, None):
                    today.extend(self.arrive(arrival) for arrival in arrivals)
                for s in today:
                    s.canonical = canonical_email(s.email)
                    s.subnet = subnet_of(s.ip)
                    self.funnel(s)
                    self.index(s)
                    # Screening order: whoever was rejected before an applicant was screened is a known offender.
                    heapq.heappush(waiting, (s.screened_at or s.started_at, s.seq, s))
                self.remember(s for s in today if not s.fraudulent)
                del today
                # Applicants of the days still to plan arrive from this day's start on (a country east of
                # TIME_ZONE starts its day earlier, by less than a day): everyone screened before it can be decided.
                horizon = datetime.combine(period.first_day + timedelta(days=day), time.min, tzinfo=period.tz)
                while waiting and (day == last or waiting[0][0] < horizon):
                    s = heapq.heappop(waiting)[2]
                    self.decide(s)
                    bar.update()
                    yield s
                if waiting:
                    self.forget_before(min(min(s.started_at for _, _, s in waiting), horizon))

    def remember(self, signups: Iterable[Signup]) -> None:
        """Keep a uniform sample of genuine applicants so far (reservoir sampling), for families sharing a phone."""
        for s in signups:
            self.family_seen += 1
            if len(self.family) < FAMILY_SAMPLE:
                self.family.append((s.country, s.phone, s.started_at))
            elif (slot := self.rng.randrange(self.family_seen)) < FAMILY_SAMPLE:
                self.family[slot] = (s.country, s.phone, s.started_at)
