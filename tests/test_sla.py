"""SLA clocks replayed from a request's history: paused while waiting for the customer,
stopped when closed, continued when reopened, in business time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.business_hours import BusinessCalendar
from domain.errors import BadUserInput
from domain.sla import (
    PAUSED_STATUSES,
    STOPPED_STATUSES,
    RequestHistory,
    SlaTargets,
    StatusChange,
    compute_sla,
    needs_info_reminders,
    warning_at,
)

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar.from_json(
    {
        "timeZone": "Europe/Berlin",
        "hours": {
            day: [["09:00", "12:00"], ["13:00", "17:00"]]
            for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
        },
        "holidays": ["2026-04-03"],
    }
)
"""Seven business hours a day, lunch 12:00-13:00; Good Friday 2026 off."""
TARGETS = SlaTargets(first_response_minutes=4 * 60, resolution_minutes=14 * 60)


def berlin(day: int, hour: int = 0, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def history(
    submitted: datetime, *changes: tuple[datetime, str], responded: datetime | None = None
) -> RequestHistory:
    return RequestHistory(
        submitted_at=submitted,
        changes=tuple(StatusChange(at, status) for at, status in changes),
        first_response_at=responded,
    )


def test_a_request_waiting_for_the_customer_over_a_weekend_counts_only_its_own_time() -> None:
    # Submitted Friday 27 March 10:00, asked for information at 11:00, answered on
    # Monday 30 March (after the clocks went forward) at 15:00; now Monday 16:00.
    request = history(
        berlin(27, 10),
        (berlin(27, 10, 30), "IN_PROGRESS"),
        (berlin(27, 11), "NEEDS_INFO"),
        (berlin(30, 15), "IN_PROGRESS"),
        responded=berlin(27, 11),
    )
    state = compute_sla(request, OFFICE, TARGETS, now=berlin(30, 16))
    assert not state.paused
    first, resolution = state.first_response, state.resolution
    assert first is not None
    assert resolution is not None
    assert (first.elapsed_minutes, first.met_at, first.breaches_at) == (60, berlin(27, 11), None)
    assert first.stopped
    assert not first.breached
    assert (resolution.elapsed_minutes, resolution.remaining_minutes) == (120, 720)
    assert resolution.running
    # 12 business hours left from Monday 16:00: 1 on Monday, 7 on Tuesday, 4 on Wednesday.
    assert resolution.breaches_at == berlin(1, 14, month=4)


def test_while_waiting_for_the_customer_no_clock_runs_and_nothing_will_breach() -> None:
    request = history(berlin(2, 9), (berlin(2, 10), "NEEDS_INFO"))
    for now in (berlin(2, 11), berlin(9, 11)):
        state = compute_sla(request, OFFICE, TARGETS, now=now)
        assert state.paused
        for clock in state.clocks:
            assert clock.paused
            assert not clock.running
            assert clock.elapsed_minutes == 60
            assert clock.breaches_at is None
            assert clock.breached_at is None
    assert warning_at(compute_sla(request, OFFICE, TARGETS, now=berlin(9)), 60) is None


def test_a_missed_first_response_is_breached_when_its_target_is_reached() -> None:
    request = history(berlin(2, 9))
    before = compute_sla(request, OFFICE, TARGETS, now=berlin(2, 13, 59))
    assert before.first_response is not None
    assert before.first_response.breaches_at == berlin(2, 14)
    assert not before.first_response.breached
    at = compute_sla(request, OFFICE, TARGETS, now=berlin(2, 14))
    assert at.first_response is not None
    assert at.first_response.breached
    assert at.first_response.breached_at == berlin(2, 14)
    assert at.breached
    late = compute_sla(
        replace(request, first_response_at=berlin(2, 15)), OFFICE, TARGETS, now=berlin(3)
    )
    assert late.first_response is not None
    assert late.first_response.breached
    assert late.first_response.met_at is None
    assert late.first_response.breaches_at is None  # stopped


def test_a_response_exactly_on_target_meets_it() -> None:
    request = history(berlin(2, 9), responded=berlin(2, 14))
    state = compute_sla(request, OFFICE, TARGETS, now=berlin(2, 14))
    assert state.first_response is not None
    assert state.first_response.met_at == berlin(2, 14)
    assert not state.first_response.breached


def test_resolution_stops_when_resolved_and_continues_on_reopening() -> None:
    request = history(
        berlin(2, 9),
        (berlin(2, 10), "IN_PROGRESS"),
        (berlin(2, 12), "RESOLVED"),
        (berlin(4, 9), "IN_PROGRESS"),
        responded=berlin(2, 10),
    )
    resolved = compute_sla(request, OFFICE, TARGETS, now=berlin(3, 10))
    assert resolved.resolution is not None
    assert resolved.resolution.stopped
    assert resolved.resolution.met_at == berlin(2, 12)
    assert resolved.resolution.elapsed_minutes == 180
    assert resolved.resolution.breaches_at is None
    reopened = compute_sla(request, OFFICE, TARGETS, now=berlin(4, 10))
    assert reopened.resolution is not None
    assert reopened.resolution.running
    assert reopened.resolution.met_at is None
    assert reopened.resolution.elapsed_minutes == 240
    # 10 hours left from Wednesday 10:00: 6 on Wednesday, 4 on Thursday.
    assert reopened.resolution.breaches_at == berlin(5, 14)


def test_a_request_closed_without_a_reply_stops_both_clocks() -> None:
    request = history(berlin(2, 9), (berlin(2, 10), "WITHDRAWN"))
    state = compute_sla(request, OFFICE, TARGETS, now=berlin(20))
    assert [(clock.stopped, clock.met_at, clock.breached) for clock in state.clocks] == [
        (True, berlin(2, 10), False),
        (True, berlin(2, 10), False),
    ]


def test_the_warning_comes_the_given_business_minutes_before_the_breach() -> None:
    request = history(berlin(2, 9), responded=berlin(2, 9, 30))
    state = compute_sla(request, OFFICE, TARGETS, now=berlin(2, 10))
    assert state.resolution is not None
    assert state.resolution.breaches_at == berlin(3, 17)
    assert warning_at(state, 120) == berlin(3, 15)
    assert warning_at(state, 7 * 60 + 60) == berlin(2, 16)  # across the lunch break
    breached = compute_sla(request, OFFICE, TARGETS, now=berlin(4, 9))
    assert warning_at(breached, 120) is None


def test_without_targets_there_are_no_clocks() -> None:
    state = compute_sla(history(berlin(2, 9)), OFFICE, SlaTargets(), now=berlin(3))
    assert state.clocks == ()
    assert not state.breached


def test_changes_after_now_are_not_known_yet() -> None:
    request = history(berlin(2, 9), (berlin(2, 12), "NEEDS_INFO"))
    state = compute_sla(request, OFFICE, TARGETS, now=berlin(2, 11))
    assert state.status == "RECEIVED"
    assert not state.paused


def test_needs_info_reminders_follow_the_current_wait_in_business_days() -> None:
    waiting = history(
        berlin(1, 9),
        (berlin(1, 10), "NEEDS_INFO"),
        (berlin(1, 11), "IN_PROGRESS"),
        (berlin(2, 16, 30), "NEEDS_INFO"),
    )
    reminders = needs_info_reminders(waiting, OFFICE, (5, 1))
    assert [(r.business_days, r.since, r.at) for r in reminders] == [
        (1, berlin(2, 16, 30), berlin(3, 16, 30)),
        (5, berlin(2, 16, 30), berlin(9, 16, 30)),
    ]
    # Over Good Friday and the weekend.
    easter = history(berlin(2, 9, month=4), (berlin(2, 10, month=4), "NEEDS_INFO"))
    assert needs_info_reminders(easter, OFFICE)[0].at == berlin(6, 10, month=4)
    answered = replace(waiting, changes=(*waiting.changes, StatusChange(berlin(3), "IN_PROGRESS")))
    assert needs_info_reminders(answered, OFFICE) == []


def test_targets_from_an_administrator_are_checked() -> None:
    assert SlaTargets.checked(60, None) == SlaTargets(60, None)
    for first, resolution, field in (
        (0, 60, "firstResponseMinutes"),
        (60, 1.5, "resolutionMinutes"),
    ):
        with pytest.raises(BadUserInput) as refused:
            SlaTargets.checked(first, resolution)
        assert refused.value.extensions["field"] == field


# -- Replaying random histories ----------------------------------------------------------

STATUSES = [
    "RECEIVED",
    "IN_PROGRESS",
    "NEEDS_INFO",
    "APPROVED",
    "REJECTED",
    "RESOLVED",
    "WITHDRAWN",
]
SHORT_DAYS = BusinessCalendar.from_json(
    {
        "timeZone": "Europe/Berlin",
        "hours": {
            "friday": [["08:00", "10:00"], ["11:00", "13:00"]],
            "saturday": [["23:00", "24:00"]],
            "sunday": [["01:00", "04:00"], ["09:00", "10:00"]],
            "monday": [["08:00", "10:00"]],
        },
        "holidays": ["2026-10-26"],
    }
)
"""Hours that cross the night the clocks go back (25 October 2026), a lunch break and a
holiday, so a short horizon holds every kind of edge."""
START = datetime(2026, 10, 23, 6, tzinfo=UTC)
HORIZON_MINUTES = 4 * 24 * 60

minutes = st.integers(0, HORIZON_MINUTES)


@st.composite
def histories(draw: st.DrawFn) -> tuple[RequestHistory, datetime]:
    submitted = START + timedelta(minutes=draw(st.integers(0, 24 * 60)))
    offsets = sorted(draw(st.lists(minutes, max_size=8)))
    changes = tuple(
        StatusChange(submitted + timedelta(minutes=offset), draw(st.sampled_from(STATUSES)))
        for offset in offsets
    )
    responded = draw(st.none() | minutes.map(lambda offset: submitted + timedelta(minutes=offset)))
    now = submitted + timedelta(minutes=draw(minutes))
    return RequestHistory(submitted, changes, responded), now


def _status_at(request: RequestHistory, moment: datetime) -> str:
    status = str(request.initial_status)
    for change in sorted(request.changes, key=lambda change: change.at):
        if change.at <= moment:
            status = str(change.status)
    return status


BUSINESS_MINUTES = frozenset(
    minute
    for minute in range(HORIZON_MINUTES + 24 * 60)
    if SHORT_DAYS.is_business_time(START + timedelta(minutes=minute))
)
"""The minutes after START that count, asked once of the calendar minute by minute."""


def _reference(request: RequestHistory, now: datetime, first: bool) -> tuple[int, datetime | None]:
    """Business minutes a clock counted by ``now``, and the end of the minute in which it
    reached its target, stepping minute by minute through the recorded changes."""
    counted, reached = 0, None
    target = (TARGETS.first_response_minutes if first else TARGETS.resolution_minutes) or 0
    changes = sorted(request.changes, key=lambda change: change.at)
    status, following = str(request.initial_status), 0
    moment = request.submitted_at
    while moment < now:
        while following < len(changes) and changes[following].at <= moment:
            status = str(changes[following].status)
            following += 1
        answered = (
            first and request.first_response_at is not None and request.first_response_at <= moment
        )
        minute = (moment - START) // timedelta(minutes=1)
        if (
            minute in BUSINESS_MINUTES
            and status not in PAUSED_STATUSES
            and status not in STOPPED_STATUSES
            and not answered
        ):
            counted += 1
            if counted == target:
                reached = moment + timedelta(minutes=1)
        moment += timedelta(minutes=1)
    return counted, reached


@settings(max_examples=40, deadline=3000)
@given(histories())
def test_replaying_a_history_agrees_with_stepping_minute_by_minute(
    drawn: tuple[RequestHistory, datetime],
) -> None:
    request, now = drawn
    state = compute_sla(request, SHORT_DAYS, TARGETS, now=now)
    assert compute_sla(request, SHORT_DAYS, TARGETS, now=now) == state  # deterministic
    for clock, first in ((state.first_response, True), (state.resolution, False)):
        assert clock is not None
        counted, reached = _reference(request, now, first)
        assert clock.elapsed_seconds == counted * 60
        if clock.met_at is None:
            assert clock.breached_at == reached
        else:
            assert counted <= clock.target_minutes
        assert clock.breached == (clock.met_at is None and counted >= clock.target_minutes)
        if clock.running:
            # Nothing changing, the clock reaches (or reached) its target then.
            assert clock.breaches_at == (
                reached or SHORT_DAYS.add_business_seconds(now, clock.remaining_seconds)
            )
        else:
            assert clock.breaches_at is None


@settings(max_examples=40, deadline=3000)
@given(histories(), minutes, minutes)
def test_time_waiting_for_the_customer_never_counts(
    drawn: tuple[RequestHistory, datetime], wait_start: int, wait_length: int
) -> None:
    request, now = drawn
    since = request.submitted_at + timedelta(minutes=wait_start)
    until = since + timedelta(minutes=wait_length)
    # The same history with a wait for the customer from `since` to `until`, after which
    # the request is back in the status it had.
    waited = replace(
        request,
        changes=tuple(
            sorted(
                [
                    *(c for c in request.changes if not since <= c.at < until),
                    StatusChange(since, "NEEDS_INFO"),
                    StatusChange(until, _status_at(request, until)),
                ],
                key=lambda change: change.at,
            )
        ),
    )
    before = compute_sla(request, SHORT_DAYS, TARGETS, now=now)
    after = compute_sla(waited, SHORT_DAYS, TARGETS, now=now)
    for plain, paused in zip(before.clocks, after.clocks, strict=True):
        assert paused.elapsed_seconds <= plain.elapsed_seconds
        assert paused.elapsed_seconds == plain.elapsed_seconds - _counted_within(
            request, plain, since, min(until, now)
        )


def _counted_within(
    request: RequestHistory, clock: object, since: datetime, until: datetime
) -> float:
    """Business seconds the clock counted in [since, until) of the original history."""
    segments = getattr(clock, "segments", ())
    total = 0.0
    for start, end in segments:
        low = max(start, since)
        high = min(end or until, until)
        if low < high:
            total += SHORT_DAYS.business_seconds_between(low, high)
    return total
