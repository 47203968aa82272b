"""Service levels of a request, computed from its recorded history and nothing else.

A request has up to two clocks, each with a target in business minutes of a
:class:`~domain.business_hours.BusinessCalendar`:

- **first response**: from submission until the first public reply by staff;
- **resolution**: from submission until the request is decided or closed
  (:data:`STOPPED_STATUSES`); it continues where it stopped when the request is reopened.

A clock counts business time only while the request is in a running status (neither
:data:`PAUSED_STATUSES`, waiting for the customer, nor :data:`STOPPED_STATUSES`). Time in
``NEEDS_INFO`` never counts, for either clock. A clock is *met* when it stopped within its
target and *breached* when it reached its target without being met. Everything is derived
by replaying the history up to ``now`` (passed in, never read from the clock): changing a
calendar or a target and computing again gives the new state of every request at once, and
the same history always gives the same state.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Final

from domain.business_hours import BusinessCalendar
from domain.errors import BadUserInput

PAUSED_STATUSES: Final = frozenset({"NEEDS_INFO"})
"""Statuses in which the request waits for the customer: no clock runs."""
STOPPED_STATUSES: Final = frozenset({"APPROVED", "REJECTED", "RESOLVED", "WITHDRAWN"})
"""Statuses that stop the clocks (until the request is reopened)."""
MAX_TARGET_MINUTES: Final = 366 * 24 * 60


def _status(value: str | Enum) -> str:
    raw = value.value if isinstance(value, Enum) else value
    return str(raw)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """The request entered ``status`` (a ``RequestStatus`` value or name) at ``at`` (aware)."""

    at: datetime
    status: str | Enum


@dataclass(frozen=True, slots=True)
class RequestHistory:
    """What the SLA is computed from: the request was submitted at ``submitted_at`` in
    ``initial_status``, then went through ``changes`` (in the order recorded; equal times
    keep that order), and staff first replied publicly at ``first_response_at`` (None: not
    yet). Changes after the ``now`` of a computation are ignored by it."""

    submitted_at: datetime
    changes: Sequence[StatusChange] = ()
    first_response_at: datetime | None = None
    initial_status: str | Enum = "RECEIVED"

    def spells(self) -> list[tuple[datetime, str]]:
        """``(since, status)`` from submission on, ordered by time, consecutive repeats of
        one status merged, changes before submission moved to it."""
        ordered = sorted(
            (max(change.at, self.submitted_at), index, _status(change.status))
            for index, change in enumerate(self.changes)
        )
        spells = [(self.submitted_at, _status(self.initial_status))]
        for at, _index, status in ordered:
            if status == spells[-1][1]:
                continue
            if at == spells[-1][0]:
                spells[-1] = (at, status)
                if len(spells) > 1 and spells[-2][1] == status:
                    spells.pop()
            else:
                spells.append((at, status))
        return spells

    def status_at(self, moment: datetime) -> str:
        """The status the request was in at ``moment`` (its initial status before it was
        submitted)."""
        current = _status(self.initial_status)
        for since, status in self.spells():
            if since > moment:
                break
            current = status
        return current


@dataclass(frozen=True, slots=True)
class SlaTargets:
    """Targets in business minutes; None: no target, no clock."""

    first_response_minutes: int | None = None
    resolution_minutes: int | None = None

    @classmethod
    def checked(cls, first_response_minutes: Any, resolution_minutes: Any) -> SlaTargets:
        """Targets from an administrator's input, or :class:`~domain.errors.BadUserInput`
        (``extensions.field`` ``firstResponseMinutes`` or ``resolutionMinutes``) for a
        value that is not a whole number from 1 to :data:`MAX_TARGET_MINUTES`."""
        for name, value in (
            ("firstResponseMinutes", first_response_minutes),
            ("resolutionMinutes", resolution_minutes),
        ):
            if value is None:
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 1 <= value <= MAX_TARGET_MINUTES
            ):
                raise BadUserInput(
                    f"{name} must be a whole number of business minutes from 1 to "
                    f"{MAX_TARGET_MINUTES}, or null for no target.",
                    field=name,
                )
        return cls(first_response_minutes, resolution_minutes)


Segment = tuple[datetime, datetime | None]
"""A stretch of counted time: from, to (None: still counting at ``now``)."""


@dataclass(frozen=True)
class SlaClock:
    """One clock as of ``now``.

    ``elapsed_seconds`` of business time counted so far; ``remaining_seconds`` until the
    target (0 once reached); ``running``: counting now; ``paused``: waiting for the
    customer; ``stopped``: responded (first response) or closed (both clocks).
    ``breached_at``: when the target was reached without being met (None: not breached);
    ``breaches_at``: while running, the moment the target is (or was) reached if nothing
    changes, else None; ``met_at``: when it stopped within its target, else None.
    """

    target_minutes: int
    elapsed_seconds: float
    running: bool
    paused: bool
    stopped: bool
    breached_at: datetime | None
    breaches_at: datetime | None
    met_at: datetime | None
    segments: tuple[Segment, ...] = field(repr=False, default=())
    calendar: BusinessCalendar | None = field(repr=False, compare=False, default=None)

    @property
    def target_seconds(self) -> float:
        return self.target_minutes * 60.0

    @property
    def breached(self) -> bool:
        return self.breached_at is not None

    @property
    def remaining_seconds(self) -> float:
        return max(0.0, self.target_seconds - self.elapsed_seconds)

    @property
    def elapsed_minutes(self) -> int:
        """Whole business minutes elapsed (rounded down)."""
        return math.floor(self.elapsed_seconds / 60)

    @property
    def remaining_minutes(self) -> int:
        """Whole business minutes left (rounded up; 0 once the target is reached)."""
        return math.ceil(self.remaining_seconds / 60)

    def reaches(self, business_seconds: float) -> datetime | None:
        """When this clock's elapsed time reached (or, running, will reach if nothing
        changes) ``business_seconds``; None if it has not and is not running."""
        assert self.calendar is not None
        return _reaches(self.calendar, self.segments, business_seconds)

    def warning_at(self, warn_business_minutes: float) -> datetime | None:
        """While running and not yet breached: when ``warn_business_minutes`` of business
        time are left before the breach (in the past when already that close). None
        otherwise."""
        if not self.running or self.breached:
            return None
        return self.reaches(max(0.0, self.target_seconds - warn_business_minutes * 60))


@dataclass(frozen=True)
class SlaState:
    """The SLA of a request as of ``now``: its ``status`` then, ``paused`` (waiting for
    the customer, no clock runs), and each clock (None where the policy sets no target)."""

    now: datetime
    status: str
    paused: bool
    first_response: SlaClock | None
    resolution: SlaClock | None

    @property
    def clocks(self) -> tuple[SlaClock, ...]:
        return tuple(clock for clock in (self.first_response, self.resolution) if clock is not None)

    @property
    def breached(self) -> bool:
        """Whether any clock is breached (the request is overdue)."""
        return any(clock.breached for clock in self.clocks)


def compute_sla(
    history: RequestHistory,
    calendar: BusinessCalendar,
    targets: SlaTargets,
    *,
    now: datetime,
) -> SlaState:
    """The SLA state of the request whose history is ``history`` as of ``now`` (aware),
    against ``calendar`` and ``targets``."""
    spells = [(since, status) for since, status in history.spells() if since <= now]
    status = spells[-1][1] if spells else _status(history.initial_status)
    closed = status in STOPPED_STATUSES
    paused = status in PAUSED_STATUSES
    running_spells = _running(spells, now)

    first_response = None
    if targets.first_response_minutes is not None:
        responded = history.first_response_at
        if responded is not None and responded > now:
            responded = None
        segments = _cut(running_spells, responded)
        stopped_at = responded if responded is not None else (spells[-1][0] if closed else None)
        first_response = _clock(
            calendar,
            targets.first_response_minutes,
            segments,
            now=now,
            paused=paused and stopped_at is None,
            stopped_at=stopped_at,
        )
    resolution = None
    if targets.resolution_minutes is not None:
        resolution = _clock(
            calendar,
            targets.resolution_minutes,
            running_spells,
            now=now,
            paused=paused,
            stopped_at=spells[-1][0] if closed else None,
        )
    return SlaState(
        now=now,
        status=status,
        paused=paused,
        first_response=first_response,
        resolution=resolution,
    )


def _running(spells: Sequence[tuple[datetime, str]], now: datetime) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    for index, (since, status) in enumerate(spells):
        if status in PAUSED_STATUSES or status in STOPPED_STATUSES:
            continue
        until = spells[index + 1][0] if index + 1 < len(spells) else None
        if until is None or since < until:
            segments.append((since, until))
    return tuple(segments)


def _cut(segments: Iterable[Segment], end: datetime | None) -> tuple[Segment, ...]:
    if end is None:
        return tuple(segments)
    cut: list[Segment] = []
    for since, until in segments:
        if since >= end:
            break
        cut.append((since, end if until is None or until > end else until))
    return tuple(cut)


def _clock(
    calendar: BusinessCalendar,
    target_minutes: int,
    segments: tuple[Segment, ...],
    *,
    now: datetime,
    paused: bool,
    stopped_at: datetime | None,
) -> SlaClock:
    elapsed = sum(
        calendar.business_seconds_between(since, now if until is None else until)
        for since, until in segments
    )
    target = target_minutes * 60.0
    stopped = stopped_at is not None
    running = not stopped and not paused
    met_at = stopped_at if stopped and elapsed <= target else None
    reached = _reaches(calendar, segments, target) if elapsed >= target or running else None
    breached_at = reached if met_at is None and elapsed >= target else None
    return SlaClock(
        target_minutes=target_minutes,
        elapsed_seconds=elapsed,
        running=running,
        paused=paused and not stopped,
        stopped=stopped,
        breached_at=breached_at,
        breaches_at=reached if running else None,
        met_at=met_at,
        segments=segments,
        calendar=calendar,
    )


def _reaches(
    calendar: BusinessCalendar, segments: Sequence[Segment], business_seconds: float
) -> datetime | None:
    counted = 0.0
    for since, until in segments:
        if until is None:
            return calendar.add_business_seconds(since, business_seconds - counted)
        length = calendar.business_seconds_between(since, until)
        if counted + length >= business_seconds:
            return calendar.add_business_seconds(since, business_seconds - counted)
        counted += length
    return None


def warning_at(state: SlaState, warn_business_minutes: float) -> datetime | None:
    """The earliest moment a running, unbreached clock of ``state`` gets within
    ``warn_business_minutes`` of its target if nothing changes (in the past when it
    already is); None when no clock runs towards a breach."""
    moments = [
        moment
        for clock in state.clocks
        if (moment := clock.warning_at(warn_business_minutes)) is not None
    ]
    return min(moments, default=None)


@dataclass(frozen=True, slots=True)
class NeedsInfoReminder:
    """Remind the requester ``business_days`` working days into the wait that began at
    ``since`` (when the request last entered ``NEEDS_INFO``), at ``at``."""

    business_days: int
    since: datetime
    at: datetime


def needs_info_since(history: RequestHistory) -> datetime | None:
    """When the request last entered ``NEEDS_INFO``, if that is its latest status."""
    spells = history.spells()
    since, status = spells[-1]
    return since if status in PAUSED_STATUSES else None


def needs_info_reminders(
    history: RequestHistory,
    calendar: BusinessCalendar,
    after_business_days: Iterable[int] = (1, 5),
) -> list[NeedsInfoReminder]:
    """The reminders due to the requester for the request's current wait in
    ``NEEDS_INFO`` (none when its latest status is another), one per number of
    ``after_business_days`` (positive, duplicates dropped), in time order; each at
    :meth:`~domain.business_hours.BusinessCalendar.add_business_days` of the wait's start."""
    since = needs_info_since(history)
    if since is None:
        return []
    return [
        NeedsInfoReminder(days, since, calendar.add_business_days(since, days))
        for days in sorted({days for days in after_business_days if days > 0})
    ]
