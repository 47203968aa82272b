"""Business calendars: which moments count, across weekends, holidays, breaks and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.business_hours import BusinessCalendar
from domain.errors import BadUserInput

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar.from_json(
    {
        "timeZone": "Europe/Berlin",
        "hours": {
            day: [["09:00", "12:30"], ["13:30", "17:00"]]
            for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
        },
        "holidays": ["2026-04-03", "2026-04-06"],
    }
)
"""Seven hours a day around a lunch break; Good Friday and Easter Monday 2026 off."""


def berlin(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BERLIN)


def hours(seconds: float) -> float:
    return seconds / 3600


def test_a_working_day_counts_its_hours_and_not_the_lunch_break() -> None:
    assert hours(OFFICE.business_seconds_between(berlin(2026, 3, 2), berlin(2026, 3, 3))) == 7
    assert (
        OFFICE.business_seconds_between(berlin(2026, 3, 2, 12, 30), berlin(2026, 3, 2, 13, 30)) == 0
    )
    assert OFFICE.business_seconds_between(berlin(2026, 3, 2, 12), berlin(2026, 3, 2, 14)) == 3600


def test_weekends_and_holidays_do_not_count() -> None:
    # Thursday 2 April 16:00 to Tuesday 7 April 10:00: Good Friday, the weekend and Easter
    # Monday in between.
    elapsed = OFFICE.business_seconds_between(berlin(2026, 4, 2, 16), berlin(2026, 4, 7, 10))
    assert hours(elapsed) == 2
    assert OFFICE.add_business_seconds(berlin(2026, 4, 2, 16), 2 * 3600) == berlin(2026, 4, 7, 10)


def test_the_week_the_clocks_go_forward_is_counted_in_wall_clock_hours() -> None:
    # Sunday 29 March 2026 02:00 -> 03:00 in Berlin: the working week around it still has
    # 7 hours a day, at the same wall-clock times.
    week = OFFICE.business_seconds_between(berlin(2026, 3, 23), berlin(2026, 4, 2))
    assert hours(week) == 8 * 7
    reached = OFFICE.add_business_seconds(berlin(2026, 3, 27, 16), 2 * 3600)
    assert reached == berlin(2026, 3, 30, 10)
    assert reached.utcoffset() == timedelta(0)  # results are in UTC
    assert reached == datetime(2026, 3, 30, 8, tzinfo=UTC)


def test_a_day_around_the_clock_is_23_or_25_hours_long_when_the_clocks_change() -> None:
    sundays = BusinessCalendar.from_json(
        {"timeZone": "Europe/Berlin", "hours": {"sunday": [["00:00", "24:00"]]}}
    )
    spring = sundays.business_seconds_between(berlin(2026, 3, 28), berlin(2026, 3, 31))
    autumn = sundays.business_seconds_between(berlin(2026, 10, 24), berlin(2026, 10, 27))
    assert (hours(spring), hours(autumn)) == (23, 25)


def test_hours_the_clocks_skip_never_count_and_repeated_hours_count_twice() -> None:
    night = BusinessCalendar.from_json(
        {"timeZone": "Europe/Berlin", "hours": {"sunday": [["02:00", "02:30"]]}}
    )
    assert night.business_seconds_between(berlin(2026, 3, 28), berlin(2026, 3, 31)) == 0
    autumn = night.business_seconds_between(berlin(2026, 10, 24), berlin(2026, 10, 27))
    assert autumn == 60 * 60


def test_a_target_reached_at_the_end_of_an_interval_is_that_moment() -> None:
    assert OFFICE.add_business_seconds(berlin(2026, 3, 2, 9), 3.5 * 3600) == berlin(
        2026, 3, 2, 12, 30
    )
    assert OFFICE.add_business_seconds(berlin(2026, 3, 2, 9), 3.5 * 3600 + 1) == berlin(
        2026, 3, 2, 13, 30, 1
    )
    assert OFFICE.add_business_seconds(berlin(2026, 3, 7, 9), 0) == berlin(2026, 3, 7, 9)


def test_business_days_land_on_the_same_time_of_a_working_day() -> None:
    assert OFFICE.add_business_days(berlin(2026, 3, 27, 16), 1) == berlin(2026, 3, 30, 16)
    assert OFFICE.add_business_days(berlin(2026, 3, 28, 10), 1) == berlin(2026, 3, 30, 10)
    assert OFFICE.add_business_days(berlin(2026, 3, 2, 7), 1) == berlin(2026, 3, 3, 9)
    assert OFFICE.add_business_days(berlin(2026, 3, 2, 20), 1) == berlin(2026, 3, 3, 17)
    assert OFFICE.add_business_days(berlin(2026, 3, 2, 12, 45), 1) == berlin(2026, 3, 3, 13, 30)
    assert OFFICE.add_business_days(berlin(2026, 4, 1, 10), 5) == berlin(2026, 4, 10, 10)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        OFFICE.business_seconds_between(datetime(2026, 3, 2), berlin(2026, 3, 3))
    with pytest.raises(ValueError, match="aware"):
        OFFICE.add_business_seconds(datetime(2026, 3, 2), 60)


def test_the_calendar_is_stored_as_json_and_read_back() -> None:
    stored = OFFICE.to_json()
    assert stored["hours"]["monday"] == [["09:00", "12:30"], ["13:30", "17:00"]]
    assert "saturday" not in stored["hours"]
    assert stored["holidays"] == ["2026-04-03", "2026-04-06"]
    assert BusinessCalendar.from_json(stored) == OFFICE
    assert OFFICE.holidays == {date(2026, 4, 3), date(2026, 4, 6)}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timeZone": "Mars/Olympus"}, "timeZone"),
        ({"timeZone": "../../etc/passwd"}, "timeZone"),
        ({"hours": {"monday": [["9:00", "17:00"]]}}, "hours.monday"),
        ({"hours": {"monday": [["17:00", "09:00"]]}}, "hours.monday"),
        ({"hours": {"monday": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "hours.monday"),
        ({"hours": {"funday": [["09:00", "17:00"]]}}, "hours"),
        ({"hours": {"monday": []}}, "hours"),
        ({"holidays": ["25.12.2026"]}, "holidays"),
        ({"weekStart": "monday"}, "weekStart"),
    ],
)
def test_an_administrators_bad_calendar_is_refused_naming_the_field(
    change: dict[str, Any], field: str
) -> None:
    with pytest.raises(BadUserInput) as refused:
        BusinessCalendar.from_json({**OFFICE.to_json(), **change})
    assert refused.value.extensions["field"] == field


# -- Against minute-by-minute stepping ---------------------------------------------------


def _stepped(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Business seconds in [start, end) by asking every minute (start on a whole minute)."""
    counted, moment = 0, start
    while moment < end:
        if calendar.is_business_time(moment):
            counted += 60
        moment += timedelta(minutes=1)
    return counted


CALENDARS = [
    OFFICE,
    BusinessCalendar.from_json(
        {
            "timeZone": "America/New_York",
            "hours": {"sunday": [["00:30", "03:00"]], "monday": [["08:00", "18:00"]]},
        }
    ),
    BusinessCalendar.from_json(
        {"timeZone": "Europe/Berlin", "hours": {"sunday": [["01:00", "04:00"]]}}
    ),
]
"""The second and third have working hours across their zones' clock changes."""

CLOCK_CHANGES = [
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
]


@settings(max_examples=40, deadline=2000)
@given(
    calendar=st.sampled_from(CALENDARS),
    near=st.sampled_from(CLOCK_CHANGES),
    start_minutes=st.integers(-2 * 24 * 60, 24 * 60),
    length_minutes=st.integers(0, 36 * 60),
)
def test_business_time_agrees_with_minute_stepping_around_clock_changes(
    calendar: BusinessCalendar, near: datetime, start_minutes: int, length_minutes: int
) -> None:
    start = near + timedelta(minutes=start_minutes)
    end = start + timedelta(minutes=length_minutes)
    counted = calendar.business_seconds_between(start, end)
    assert counted == _stepped(calendar, start, end)
    if counted:
        reached = calendar.add_business_seconds(start, counted)
        assert reached <= end
        assert calendar.business_seconds_between(start, reached) == counted
        assert calendar.business_seconds_between(reached, end) == 0
