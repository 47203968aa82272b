"""Business hours: which moments count towards a service level target.

A :class:`BusinessCalendar` has an IANA time zone, working hours per weekday (one or more
intervals of local wall-clock time, e.g. 09:00-12:30 and 13:30-17:00 around a lunch
break; a weekday without intervals is no working day) and holidays (local dates on which
nothing counts). A moment counts when, read on the calendar's wall clock, it falls on a
working day that is no holiday, inside one of that day's intervals. So a working day is
an hour shorter or longer when the clocks change inside its hours, a local time skipped by
the clocks (a DST gap) is never counted, and a repeated one counts each time it passes.

Stored as JSON (:meth:`BusinessCalendar.to_json`, :meth:`BusinessCalendar.from_json`)::

    {"timeZone": "Europe/Berlin",
     "hours": {"monday": [["09:00", "12:30"], ["13:30", "17:00"]], ..., "friday": [...]},
     "holidays": ["2026-12-25", "2026-12-26"]}

Weekdays left out of ``hours`` (or given ``[]``) are no working days; ``"24:00"`` ends an
interval at midnight. All instants given to or returned by a calendar are aware
datetimes (a naive one raises :class:`ValueError`); results are in UTC.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import BadUserInput

WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_INTERVALS_PER_DAY: Final = 6
MAX_HOLIDAYS: Final = 1000
SEARCH_LIMIT: Final = timedelta(days=3 * 366)
"""How far :meth:`BusinessCalendar.add_business_seconds` looks ahead before it gives up."""

_CLOCK = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d|24:00")
_DAY = timedelta(days=1)
_CHUNK = timedelta(hours=12)
"""Business time is worked out (and remembered) in aligned stretches of this length, in
which a zone changes its UTC offset at most once."""
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_TICK = timedelta(microseconds=1)

Interval = tuple[int, int]
"""Minutes after local midnight: start (inclusive), end (exclusive, at most 1440)."""


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone), not naive")
    return moment.astimezone(UTC)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class BusinessCalendar:
    """When business time runs (see the module's description).

    ``hours`` maps a weekday (0 Monday ... 6 Sunday) to its sorted, non-overlapping
    intervals in minutes after local midnight; ``holidays`` holds local dates.
    """

    time_zone: str = "UTC"
    hours: Mapping[int, tuple[Interval, ...]] = field(
        default_factory=lambda: dict.fromkeys(range(5), ((9 * 60, 17 * 60),))
    )
    holidays: frozenset[date] = frozenset()
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hours", {day: tuple(self.hours.get(day, ())) for day in range(7)})
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        key = (self.time_zone, tuple(self.hours.items()), self.holidays)
        object.__setattr__(self, "_hash", hash(key))

    def __hash__(self) -> int:
        return self._hash

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    # -- Storage ---------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The calendar as stored: ``{"timeZone", "hours", "holidays"}`` (see the module)."""
        return {
            "timeZone": self.time_zone,
            "hours": {
                WEEKDAYS[day]: [[_clock(start), _clock(end)] for start, end in self.hours[day]]
                for day in range(7)
                if self.hours[day]
            },
            "holidays": [day.isoformat() for day in sorted(self.holidays)],
        }

    @classmethod
    def from_json(cls, data: Any) -> BusinessCalendar:
        """A calendar from its JSON (an administrator's input or a stored one), or
        :class:`~domain.errors.BadUserInput` whose ``extensions.field`` names the bad part
        (``timeZone``, ``hours``, ``hours.monday``, ``holidays``): an unknown time zone, a
        time that is not ``HH:MM``, an interval that ends before it starts or overlaps
        another, more than :data:`MAX_INTERVALS_PER_DAY` intervals a day, no working hours
        at all, a date that is not ``YYYY-MM-DD``, more than :data:`MAX_HOLIDAYS` holidays.
        """
        if not isinstance(data, Mapping):
            raise BadUserInput(
                "A business calendar is an object with timeZone, hours and holidays.",
                field="calendar",
            )
        unknown = set(data) - {"timeZone", "hours", "holidays"}
        if unknown:
            name = sorted(unknown)[0]
            raise BadUserInput(
                f"{name} is not part of a business calendar (timeZone, hours, holidays).",
                field=name,
            )
        zone_name = data.get("timeZone")
        if not isinstance(zone_name, str) or not _known_zone(zone_name):
            raise BadUserInput(
                "timeZone must be an IANA time zone name such as Europe/Berlin.",
                field="timeZone",
            )
        hours = _read_hours(data.get("hours"))
        holidays = _read_holidays(data.get("holidays", []))
        return cls(time_zone=zone_name, hours=hours, holidays=holidays)

    # -- Business time ---------------------------------------------------------------

    def is_working_date(self, day: date) -> bool:
        """Whether the local date ``day`` has working hours and is no holiday."""
        return bool(self.hours[day.weekday()]) and day not in self.holidays

    def is_business_time(self, moment: datetime) -> bool:
        """Whether ``moment`` counts: its local date is a working date and its local time
        of day is inside one of that day's intervals."""
        local = _aware(moment, "moment").astimezone(self.zone)
        if not self.is_working_date(local.date()):
            return False
        minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
        return any(start <= minute < end for start, end in self.hours[local.weekday()])

    def intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The business intervals inside ``[start, end)``, in order, as UTC
        ``(from, to)`` pairs with ``from < to`` (a stretch may come cut in pieces)."""
        start, end = _aware(start, "start"), _aware(end, "end")
        if start >= end:
            return
        for index in range(_chunk_of(start), _chunk_of(end - _TICK) + 1):
            for since, until in _chunk_intervals(self, index):
                low, high = max(since, start), min(until, end)
                if low < high:
                    yield low, high

    def business_seconds_between(self, start: datetime, end: datetime) -> float:
        """Seconds of business time in ``[start, end)``; 0 when ``end`` is not after
        ``start``."""
        start, end = _aware(start, "start"), _aware(end, "end")
        if start >= end:
            return 0.0
        first, last = _chunk_of(start), _chunk_of(end - _TICK)
        if first == last:
            return _seconds(self.intervals(start, end))
        return (
            _seconds(self.intervals(start, _chunk_start(first + 1)))
            + sum(_chunk_seconds(self, index) for index in range(first + 1, last))
            + _seconds(self.intervals(_chunk_start(last), end))
        )

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The first moment (UTC) by which ``seconds`` of business time have passed since
        ``start``: the moment a target of that many business seconds is reached. ``start``
        itself for 0 or less. Raises :class:`ValueError` if the calendar holds that much
        business time only after :data:`SEARCH_LIMIT`."""
        start = _aware(start, "start")
        if seconds <= 0:
            return start
        left = timedelta(seconds=seconds)
        first = _chunk_of(start)
        for index in range(first, _chunk_of(start + SEARCH_LIMIT) + 1):
            if index > first and _chunk_seconds(self, index) < left.total_seconds():
                left -= timedelta(seconds=_chunk_seconds(self, index))
                continue
            for since, until in _chunk_intervals(self, index):
                since = max(since, start)
                if since >= until:
                    continue
                if until - since >= left:
                    return since + left
                left -= until - since
        raise ValueError("the calendar holds too little business time to reach the target")

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """The moment ``days`` working days after ``start``'s local date, at ``start``'s
        local time of day moved into that day's working hours (to the opening when
        earlier, to the start of the next interval in a break, to the closing when
        later): "after one business day" from Friday 16:00 is Monday 16:00, from
        Saturday 10:00 Monday 10:00, from 07:00 the next working day's opening."""
        start = _aware(start, "start")
        if days <= 0:
            return start
        local = start.astimezone(self.zone)
        day = local.date()
        for _ in range(days):
            day += _DAY
            guard = 0
            while not self.is_working_date(day):
                day += _DAY
                guard += 1
                if guard > SEARCH_LIMIT.days:
                    raise ValueError("the calendar has no working day ahead")
        minute = local.hour * 60 + local.minute
        intervals = self.hours[day.weekday()]
        if minute < intervals[0][0]:
            minute = intervals[0][0]
        elif minute >= intervals[-1][1]:
            minute = intervals[-1][1]
        else:
            for since, until in intervals:
                if minute < since:
                    minute = since
                    break
                if minute < until:
                    break
        return self._wall_to_utc(datetime.combine(day, time()) + timedelta(minutes=minute))

    # -- Internals -------------------------------------------------------------------

    def _offset(self, moment: datetime) -> timedelta:
        offset = moment.astimezone(self.zone).utcoffset()
        assert offset is not None
        return offset

    def _constant_offsets(
        self, start: datetime, end: datetime
    ) -> Iterator[tuple[datetime, datetime, timedelta]]:
        """``[start, end)`` cut where the zone's UTC offset changes: ``(from, to, offset)``.
        Offsets change on whole seconds, at most once in a :data:`_CHUNK`."""
        cursor = start
        while cursor < end:
            offset = self._offset(cursor)
            last = end - timedelta(microseconds=1)
            if self._offset(last) == offset:
                yield cursor, end, offset
                return
            low, high = math.floor(cursor.timestamp()), math.ceil(last.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if self._offset(datetime.fromtimestamp(middle, UTC)) == offset:
                    low = middle
                else:
                    high = middle
            change = max(datetime.fromtimestamp(high, UTC), cursor + timedelta(microseconds=1))
            yield cursor, change, offset
            cursor = change

    def _intervals_in(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        for since, until, offset in self._constant_offsets(start, end):
            wall_since = (since + offset).replace(tzinfo=None)
            wall_until = (until + offset).replace(tzinfo=None)
            day = wall_since.date()
            while datetime.combine(day, time()) < wall_until:
                if self.is_working_date(day):
                    midnight = datetime.combine(day, time())
                    for first, last in self.hours[day.weekday()]:
                        low = max(wall_since, midnight + timedelta(minutes=first))
                        high = min(wall_until, midnight + timedelta(minutes=last))
                        if low < high:
                            yield (
                                (low - offset).replace(tzinfo=UTC),
                                (high - offset).replace(tzinfo=UTC),
                            )
                day += _DAY

    def _wall_to_utc(self, wall: datetime) -> datetime:
        """The first moment whose local wall-clock time is ``wall`` (naive), or, for a time
        the clocks skipped, the moment they skipped it."""
        zone = self.zone
        candidates = []
        for fold in (0, 1):
            moment = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
            if moment.astimezone(zone).replace(tzinfo=None) == wall:
                candidates.append(moment)
        if candidates:
            return min(candidates)
        # In a gap: the transition is between the two readings of ``wall``.
        early = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
        late = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
        low, high = min(early, late), max(early, late)
        for since, _until, _offset in self._constant_offsets(low, high + timedelta(seconds=1)):
            if since > low:
                return since
        return high


def _known_zone(name: str) -> bool:
    if not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _minutes(text: Any, where: str) -> int:
    if not isinstance(text, str) or not _CLOCK.fullmatch(text):
        raise BadUserInput(f"{where}: {text!r} is not a time of day as HH:MM.", field=where)
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _read_hours(data: Any) -> dict[int, tuple[Interval, ...]]:
    if not isinstance(data, Mapping):
        raise BadUserInput(
            'hours must map weekdays to intervals, e.g. {"monday": [["09:00", "17:00"]]}.',
            field="hours",
        )
    hours: dict[int, tuple[Interval, ...]] = {}
    for name, intervals in data.items():
        if name not in WEEKDAYS:
            raise BadUserInput(
                f"hours: {name!r} is not a weekday (monday ... sunday).", field="hours"
            )
        where = f"hours.{name}"
        if not isinstance(intervals, list) or len(intervals) > MAX_INTERVALS_PER_DAY:
            raise BadUserInput(
                f"{where} must list at most {MAX_INTERVALS_PER_DAY} intervals "
                '[["HH:MM", "HH:MM"], ...].',
                field=where,
            )
        read: list[Interval] = []
        for pair in intervals:
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise BadUserInput(
                    f'{where}: each interval is ["HH:MM", "HH:MM"] (start, end).', field=where
                )
            start, end = _minutes(pair[0], where), _minutes(pair[1], where)
            if start >= end:
                raise BadUserInput(
                    f"{where}: the interval {pair[0]}-{pair[1]} must end after it starts.",
                    field=where,
                )
            read.append((start, end))
        read.sort()
        for (_, end), (start, _) in itertools.pairwise(read):
            if start < end:
                raise BadUserInput(f"{where}: intervals must not overlap.", field=where)
        hours[WEEKDAYS.index(name)] = tuple(read)
    if not any(hours.values()):
        raise BadUserInput("hours must have working hours on at least one day.", field="hours")
    return hours


def _read_holidays(data: Any) -> frozenset[date]:
    if not isinstance(data, list) or len(data) > MAX_HOLIDAYS:
        raise BadUserInput(
            f'holidays must list at most {MAX_HOLIDAYS} dates ["YYYY-MM-DD", ...].',
            field="holidays",
        )
    days: set[date] = set()
    for item in data:
        try:
            if not isinstance(item, str) or len(item) != 10:
                raise ValueError(item)
            days.add(date.fromisoformat(item))
        except ValueError:
            raise BadUserInput(
                f"holidays: {item!r} is not a date as YYYY-MM-DD.", field="holidays"
            ) from None
    return frozenset(days)


def _chunk_of(moment: datetime) -> int:
    return (moment - _EPOCH) // _CHUNK


def _chunk_start(index: int) -> datetime:
    return _EPOCH + index * _CHUNK


def _seconds(intervals: Iterator[tuple[datetime, datetime]]) -> float:
    return sum((until - since).total_seconds() for since, until in intervals)


@functools.lru_cache(maxsize=16384)
def _chunk_intervals(
    calendar: BusinessCalendar, index: int
) -> tuple[tuple[datetime, datetime], ...]:
    start = _chunk_start(index)
    return tuple(calendar._intervals_in(start, start + _CHUNK))


@functools.lru_cache(maxsize=16384)
def _chunk_seconds(calendar: BusinessCalendar, index: int) -> float:
    return _seconds(iter(_chunk_intervals(calendar, index)))
