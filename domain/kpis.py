"""The KPIs: what each figure means and how it is computed from plain facts.

Nothing here reads the database or the clock: the facts (requests with their business-hour
durations, counts of reads and searches, days of activity, reading sessions) are gathered
elsewhere and every figure is a function of them and of a :class:`Period`. The same facts
and period give the same figures, whoever asks: the provider and the customer see
identical numbers.

Days are UTC days; a period is a range of whole days, both ends included. Each figure comes
with the records it was computed from (:class:`Record`), each with its contribution, so a
disputed number can be checked by hand.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Final

from domain.errors import BadUserInput
from models import User

MAX_PERIOD_DAYS: Final = 731
"""The longest period asked for (two years)."""
EARLIEST_DAY: Final = date(1970, 1, 1)
"""The first day a period may start on."""
SELF_SERVICE_DAYS: Final = 7
"""A reading session is self-served when its contact submits no request within these days."""
WEEK_DAYS: Final = 7
MONTH_DAYS: Final = 30


class Unit(StrEnum):
    COUNT = "COUNT"
    BUSINESS_HOURS = "BUSINESS_HOURS"
    PERCENT = "PERCENT"


class Interval(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"


class Preset(StrEnum):
    LAST_7_DAYS = "LAST_7_DAYS"
    LAST_30_DAYS = "LAST_30_DAYS"
    LAST_90_DAYS = "LAST_90_DAYS"
    LAST_365_DAYS = "LAST_365_DAYS"
    THIS_MONTH = "THIS_MONTH"
    LAST_MONTH = "LAST_MONTH"


# -- Who may read them ---------------------------------------------------------------------


def can_see_search_terms(viewer: User) -> bool:
    """The terms people searched for: staff only (contacts see counts per day)."""
    return viewer.is_staff


# -- Periods --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The UTC days from ``start`` to ``end``, both included."""

    start: date
    end: date

    @classmethod
    def checked(cls, start: date, end: date, today: date | None = None) -> Period:
        """The period, or BAD_USER_INPUT (field ``period``) when ``end`` is before ``start``,
        it is longer than :data:`MAX_PERIOD_DAYS`, it starts before :data:`EARLIEST_DAY` or
        (given ``today``, the UTC date) it ends after today."""
        if end < start:
            raise BadUserInput("The period's `to` must not be before its `from`.", field="period")
        if (end - start).days + 1 > MAX_PERIOD_DAYS:
            raise BadUserInput(f"A period is at most {MAX_PERIOD_DAYS} days long.", field="period")
        if start < EARLIEST_DAY:
            raise BadUserInput(
                f"A period starts on {EARLIEST_DAY.isoformat()} or later.", field="period"
            )
        if today is not None and end > today:
            raise BadUserInput(
                f"A period ends today ({today.isoformat()}, UTC) at the latest: later days "
                "have no figures yet.",
                field="period",
            )
        return cls(start, end)

    @classmethod
    def preset(cls, preset: Preset, today: date) -> Period:
        """The period ``preset`` names, as of ``today`` (included in the LAST_N_DAYS ones)."""
        if preset is Preset.THIS_MONTH:
            return cls(today.replace(day=1), today)
        if preset is Preset.LAST_MONTH:
            end = today.replace(day=1) - timedelta(days=1)
            return cls(end.replace(day=1), end)
        days = int(preset.value.split("_")[1])
        return cls(today - timedelta(days=days - 1), today)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @cached_property
    def start_at(self) -> datetime:
        """The period's first moment (00:00 UTC of ``start``)."""
        return datetime.combine(self.start, time(), tzinfo=UTC)

    @cached_property
    def end_at(self) -> datetime:
        """The moment just after the period (00:00 UTC of the day after ``end``)."""
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=UTC)

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def holds(self, moment: datetime | date | None) -> bool:
        if moment is None:
            return False
        if isinstance(moment, datetime):
            return self.start_at <= moment < self.end_at
        return self.start <= moment <= self.end

    def ending(self, days: int) -> Period:
        """The ``days`` days that end with this period's last day."""
        return Period(self.end - timedelta(days=days - 1), self.end)

    def buckets(self, interval: Interval) -> list[Period]:
        """The days of the period, or its weeks (Monday to Sunday, the first and last cut
        to the period)."""
        found = []
        start = self.start
        while start <= self.end:
            if interval is Interval.DAY:
                end = start
            else:
                end = min(self.end, start + timedelta(days=6 - start.weekday()))
            found.append(Period(start, end))
            start = end + timedelta(days=1)
        return found


# -- Facts ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestFact:
    """A request: when it was submitted, first answered by staff and resolved; those
    durations in business hours of its calendar; whether it was ever sent back to
    NEEDS_INFO; and its SLA outcome as of now (True: every clock met, False: a clock
    breached, None: no targets or still running)."""

    id: int
    reference: str
    created_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    first_response_hours: float | None = None
    resolution_hours: float | None = None
    sent_back: bool = False
    sla_met: bool | None = None


@dataclass(frozen=True, slots=True)
class ReadFact:
    """``reads`` of the page or document ``object_id`` (``kind`` PAGE or DOCUMENT) on
    ``day``."""

    kind: str
    object_id: int
    day: date
    reads: int


@dataclass(frozen=True, slots=True)
class SearchFact:
    """``searches`` with ``terms`` on ``day``, ``found_nothing`` of them without a hit."""

    day: date
    terms: str
    searches: int
    found_nothing: int


@dataclass(frozen=True, slots=True)
class SessionFact:
    """A sign-in session that read something, first at ``first_read_at``, of the contact
    ``contact`` (an opaque number: never shown)."""

    first_read_at: datetime
    contact: int


@dataclass(frozen=True)
class Facts:
    """Everything the figures are computed from; ``active`` holds (contact, day) pairs and
    ``submissions`` the submission times of each contact's requests (contacts are opaque
    numbers, never shown)."""

    requests: Sequence[RequestFact] = ()
    reads: Sequence[ReadFact] = ()
    searches: Sequence[SearchFact] = ()
    active: Sequence[tuple[int, date]] = ()
    sessions: Sequence[SessionFact] = ()
    submissions: Mapping[int, Sequence[datetime]] = field(default_factory=dict)
    show_terms: bool = False
    """Whether the search records name their terms (staff) or count per day (contacts)."""

    @cached_property
    def _by_day(self) -> dict[date, _Day]:
        days: dict[date, _Day] = defaultdict(_Day)
        for request in self.requests:
            moments = (request.created_at, request.first_response_at, request.resolved_at)
            for day in {m.astimezone(UTC).date() for m in moments if m is not None}:
                days[day].requests.append(request)
        for read in self.reads:
            days[read.day].reads.append(read)
        for search in self.searches:
            days[search.day].searches.append(search)
        for contact, day in self.active:
            days[day].active.append((contact, day))
        for session in self.sessions:
            days[session.first_read_at.astimezone(UTC).date()].sessions.append(session)
        return dict(days)

    def within(self, start: date, end: date) -> Facts:
        """The facts of the days from ``start`` to ``end`` (a request: when it was
        submitted, first answered or resolved then), found through an index by day."""
        found = _Day()
        by_day = self._by_day
        day = start
        while day <= end:
            if (of_day := by_day.get(day)) is not None:
                found.requests += of_day.requests
                found.reads += of_day.reads
                found.searches += of_day.searches
                found.active += of_day.active
                found.sessions += of_day.sessions
            day += timedelta(days=1)
        requests = sorted({r.id: r for r in found.requests}.values(), key=lambda r: r.id)
        return replace(
            self,
            requests=requests,
            reads=found.reads,
            searches=found.searches,
            active=found.active,
            sessions=found.sessions,
        )

    def windows(self, period: Period, interval: Interval) -> list[tuple[Period, Facts]]:
        """Each day or week of ``period`` with the facts that concern it (those of its days
        and of the month before, where the active contacts look back), found once per
        period and interval however many figures ask for their series."""
        key = (period, interval)
        if key not in self._windows:
            self._windows[key] = [
                (bucket, self.within(bucket.start - timedelta(days=MONTH_DAYS), bucket.end))
                for bucket in period.buckets(interval)
            ]
        return self._windows[key]

    @cached_property
    def _windows(self) -> dict[tuple[Period, Interval], list[tuple[Period, Facts]]]:
        return {}


@dataclass
class _Day:
    requests: list[RequestFact] = field(default_factory=list)
    reads: list[ReadFact] = field(default_factory=list)
    searches: list[SearchFact] = field(default_factory=list)
    active: list[tuple[int, date]] = field(default_factory=list)
    sessions: list[SessionFact] = field(default_factory=list)


# -- Figures --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    """What a figure was computed from: an object (``kind`` ``Request``, ``Page`` or
    ``LibraryDocument`` and its ``object_id``) or a group (``kind`` ``Day`` or ``Terms``,
    ``object_id`` None), its ``label``, and its ``contribution`` to the figure (a count,
    business hours, or 1/0 for a share), out of ``out_of`` where it is a share of a
    group."""

    kind: str
    object_id: int | None
    label: str
    contribution: float
    out_of: float | None = None


@dataclass(frozen=True, slots=True)
class Measure:
    """A figure's value (None: nothing to compute it from) and its records."""

    value: float | None
    records: tuple[Record, ...]


def median(values: Sequence[float]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count); None for
    none."""
    return float(statistics.median(values)) if values else None


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile, nearest rank: the smallest value that at least 90% of the
    values do not exceed; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[math.ceil(0.9 * len(ordered)) - 1])


def share(part: float, whole: float) -> float | None:
    """``part`` of ``whole`` in percent, rounded to 2 decimals; None when ``whole`` is 0."""
    return round(100.0 * part / whole, 2) if whole else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _request_record(request: RequestFact, contribution: float) -> Record:
    return Record("Request", request.id, request.reference, contribution)


def _count_requests(moment: Callable[[RequestFact], datetime | None]) -> Calculation:
    def measure(facts: Facts, period: Period) -> Measure:
        found = [r for r in facts.requests if period.holds(moment(r))]
        return Measure(float(len(found)), tuple(_request_record(r, 1.0) for r in found))

    return measure


def _duration(
    moment: Callable[[RequestFact], datetime | None],
    hours: Callable[[RequestFact], float | None],
    statistic: Callable[[Sequence[float]], float | None],
) -> Calculation:
    def measure(facts: Facts, period: Period) -> Measure:
        found = [
            (r, value)
            for r in facts.requests
            if period.holds(moment(r)) and (value := hours(r)) is not None
        ]
        found.sort(key=lambda pair: (pair[1], pair[0].id))
        value = _rounded(statistic([v for _, v in found]))
        return Measure(value, tuple(_request_record(r, round(v, 2)) for r, v in found))

    return measure


def _sla_compliance(facts: Facts, period: Period) -> Measure:
    found = [r for r in facts.requests if period.holds(r.created_at) and r.sla_met is not None]
    met = sum(1 for r in found if r.sla_met)
    return Measure(
        share(met, len(found)), tuple(_request_record(r, 1.0 if r.sla_met else 0.0) for r in found)
    )


def _complete_on_submission(facts: Facts, period: Period) -> Measure:
    found = [r for r in facts.requests if period.holds(r.created_at)]
    complete = sum(1 for r in found if not r.sent_back)
    return Measure(
        share(complete, len(found)),
        tuple(_request_record(r, 0.0 if r.sent_back else 1.0) for r in found),
    )


def _active(days: int) -> Calculation:
    def measure(facts: Facts, period: Period) -> Measure:
        window = period.ending(days)
        contacts: set[int] = set()
        per_day: Counter[date] = Counter()
        for contact, day in facts.active:
            if window.holds(day):
                contacts.add(contact)
                per_day[day] += 1
        records = tuple(
            Record("Day", None, day.isoformat(), float(count))
            for day, count in sorted(per_day.items())
        )
        return Measure(float(len(contacts)), records)

    return measure


def self_served(session: SessionFact, submissions: Iterable[datetime]) -> bool:
    """Whether the session's contact submitted no request from its first read until
    :data:`SELF_SERVICE_DAYS` days after it."""
    until = session.first_read_at + timedelta(days=SELF_SERVICE_DAYS)
    return not any(session.first_read_at <= at <= until for at in submissions)


def _self_service(facts: Facts, period: Period) -> Measure:
    sessions: Counter[date] = Counter()
    served: Counter[date] = Counter()
    for session in facts.sessions:
        if period.holds(session.first_read_at):
            day = session.first_read_at.astimezone(UTC).date()
            sessions[day] += 1
            if self_served(session, facts.submissions.get(session.contact, ())):
                served[day] += 1
    records = tuple(
        Record("Day", None, day.isoformat(), float(served[day]), float(count))
        for day, count in sorted(sessions.items())
    )
    return Measure(share(sum(served.values()), sum(sessions.values())), records)


def _reads(facts: Facts, period: Period) -> Measure:
    totals: Counter[tuple[str, int]] = Counter()
    for read in facts.reads:
        if read.kind in ("PAGE", "DOCUMENT") and period.holds(read.day):
            totals[(read.kind, read.object_id)] += read.reads
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    records = tuple(
        Record("Page" if kind == "PAGE" else "LibraryDocument", object_id, "", float(reads))
        for (kind, object_id), reads in ranked
    )
    return Measure(float(sum(totals.values())), records)


def _searches(count: Callable[[SearchFact], int]) -> Calculation:
    def measure(facts: Facts, period: Period) -> Measure:
        by_terms: Counter[str] = Counter()
        by_day: Counter[date] = Counter()
        for search in facts.searches:
            if period.holds(search.day) and count(search):
                by_terms[search.terms] += count(search)
                by_day[search.day] += count(search)
        if facts.show_terms:
            ranked = sorted(by_terms.items(), key=lambda item: (-item[1], item[0]))
            records = tuple(Record("Terms", None, terms, float(n)) for terms, n in ranked)
        else:
            records = tuple(
                Record("Day", None, day.isoformat(), float(n)) for day, n in sorted(by_day.items())
            )
        return Measure(float(sum(by_day.values())), records)

    return measure


Calculation = Callable[[Facts, Period], Measure]


@dataclass(frozen=True, slots=True)
class Kpi:
    """A figure: its ``key`` (its field in the API and its CSV's name), ``title``,
    ``definition`` in words, ``unit`` and how it is computed over a period."""

    key: str
    title: str
    definition: str
    unit: Unit
    calculate: Calculation

    def measure(self, facts: Facts, period: Period) -> Measure:
        return self.calculate(facts, period)

    def series(
        self, facts: Facts, period: Period, interval: Interval
    ) -> list[tuple[date, float | None]]:
        """The figure for each day or week of ``period`` (each computed over that day or
        week as its period), empty ones included: 0 for counts, None where there is nothing
        to compute a time or a share from."""
        return [
            (bucket.start, self.calculate(relevant, bucket).value)
            for bucket, relevant in facts.windows(period, interval)
        ]


_FIRST_RESPONSE = (
    "business hours (of the request's SLA calendar) from its submission to the first "
    "public reply by staff, over the requests first answered in the period"
)
_RESOLUTION = (
    "business hours (of the request's SLA calendar) from its submission to its "
    "resolution, over the requests resolved in the period"
)

KPIS: Final[dict[str, Kpi]] = {
    kpi.key: kpi
    for kpi in (
        Kpi(
            "submitted",
            "Requests submitted",
            "Requests submitted in the period, whatever became of them.",
            Unit.COUNT,
            _count_requests(lambda r: r.created_at),
        ),
        Kpi(
            "resolved",
            "Requests resolved",
            "Requests whose status is RESOLVED and that were resolved in the period.",
            Unit.COUNT,
            _count_requests(lambda r: r.resolved_at),
        ),
        Kpi(
            "firstResponseMedian",
            "First response time (median)",
            f"The median of the {_FIRST_RESPONSE}.",
            Unit.BUSINESS_HOURS,
            _duration(lambda r: r.first_response_at, lambda r: r.first_response_hours, median),
        ),
        Kpi(
            "firstResponseP90",
            "First response time (90th percentile)",
            f"The 90th percentile (nearest rank: 90% took at most this) of the {_FIRST_RESPONSE}.",
            Unit.BUSINESS_HOURS,
            _duration(lambda r: r.first_response_at, lambda r: r.first_response_hours, p90),
        ),
        Kpi(
            "resolutionMedian",
            "Resolution time (median)",
            f"The median of the {_RESOLUTION}.",
            Unit.BUSINESS_HOURS,
            _duration(lambda r: r.resolved_at, lambda r: r.resolution_hours, median),
        ),
        Kpi(
            "resolutionP90",
            "Resolution time (90th percentile)",
            f"The 90th percentile (nearest rank: 90% took at most this) of the {_RESOLUTION}.",
            Unit.BUSINESS_HOURS,
            _duration(lambda r: r.resolved_at, lambda r: r.resolution_hours, p90),
        ),
        Kpi(
            "slaCompliance",
            "SLA compliance",
            "Of the requests submitted in the period that have SLA targets and whose clocks "
            "are decided (every clock stopped within its target, or one breached), the share "
            "with no clock breached, as of now. Requests still within their targets are not "
            "counted yet.",
            Unit.PERCENT,
            _sla_compliance,
        ),
        Kpi(
            "completeOnSubmission",
            "Complete on submission",
            "Of the requests submitted in the period, the share never sent back to "
            "NEEDS_INFO (the provider had what it needed from the start).",
            Unit.PERCENT,
            _complete_on_submission,
        ),
        Kpi(
            "activeContactsWeekly",
            "Active contacts (weekly)",
            "Contacts who read a page, a document or a timeline or searched, on at least one "
            "of the last 7 days of the period. Records: the number of active contacts per day.",
            Unit.COUNT,
            _active(WEEK_DAYS),
        ),
        Kpi(
            "activeContactsMonthly",
            "Active contacts (monthly)",
            "Contacts who read a page, a document or a timeline or searched, on at least one "
            "of the last 30 days of the period. Records: the number of active contacts per day.",
            Unit.COUNT,
            _active(MONTH_DAYS),
        ),
        Kpi(
            "selfServiceRate",
            "Self-service rate",
            "Of the sign-in sessions in which a contact first read a page, a document or a "
            "timeline in the period, the share after which that contact submitted no request "
            "within 7 days (as of now: a recent session counts as self-served until a request "
            "comes). Records: per day, the self-served sessions out of all.",
            Unit.PERCENT,
            _self_service,
        ),
        Kpi(
            "reads",
            "Pages and documents read",
            "Reads of pages and library documents by contacts in the period. Records: each "
            "page and document read, most read first, with its reads.",
            Unit.COUNT,
            _reads,
        ),
        Kpi(
            "searches",
            "Searches",
            "Searches made by contacts in the period. Records: per terms searched (staff) or "
            "per day (contacts).",
            Unit.COUNT,
            _searches(lambda s: s.searches),
        ),
        Kpi(
            "searchesWithoutResults",
            "Searches that found nothing",
            "Searches made by contacts in the period that found nothing. Records: per terms "
            "searched (staff) or per day (contacts).",
            Unit.COUNT,
            _searches(lambda s: s.found_nothing),
        ),
    )
}
"""Every KPI, by key, in the order they are shown."""


def grouped(pairs: Iterable[tuple[int, datetime]]) -> dict[int, list[datetime]]:
    """``(contact, moment)`` pairs as each contact's moments."""
    found: dict[int, list[datetime]] = defaultdict(list)
    for contact, moment in pairs:
        found[contact].append(moment)
    return dict(found)
