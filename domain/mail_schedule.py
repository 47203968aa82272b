"""When notification mail goes out: the defaults of each category, the limits of a
preference, and the time a batch or digest is due in the user's time zone, outside their
quiet hours. Pure logic: times in and out are aware datetimes in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import BadUserInput
from models.mail_preferences import MailCategory, MailDelivery

WINDOW_MINUTES = (2, 60)
"""The shortest and longest batching window, in minutes."""
DEFAULT_WINDOW = 10


@dataclass(frozen=True, slots=True)
class Preference:
    """How one category is mailed: ``delivery``; IMMEDIATE batches over ``window_minutes``
    from the first waiting item; DAILY and WEEKLY at the local ``digest_hour`` (0-23) and,
    WEEKLY, ``digest_weekday`` (0 Monday to 6 Sunday)."""

    delivery: MailDelivery
    window_minutes: int = DEFAULT_WINDOW
    digest_hour: int = 8
    digest_weekday: int = 0


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local hours without notification mail: ``start_hour`` (included) to ``end_hour``
    (excluded), across midnight when ``end_hour < start_hour``."""

    start_hour: int
    end_hour: int

    def contains(self, hour: int) -> bool:
        if self.start_hour <= self.end_hour:
            return self.start_hour <= hour < self.end_hour
        return hour >= self.start_hour or hour < self.end_hour


DEFAULTS: dict[MailCategory, Preference] = {
    # what concerns someone directly reaches them within minutes, batched
    MailCategory.MENTIONS_AND_REPLIES: Preference(MailDelivery.IMMEDIATE),
    # what they watch comes once a day, so nobody is flooded
    MailCategory.WATCHED: Preference(MailDelivery.DAILY),
    MailCategory.REQUESTS: Preference(MailDelivery.IMMEDIATE),
    MailCategory.ACCOUNT: Preference(MailDelivery.IMMEDIATE),
}

LIST_NAMES: dict[MailCategory, str] = {
    MailCategory.MENTIONS_AND_REPLIES: "mentions",
    MailCategory.WATCHED: "watched",
    MailCategory.REQUESTS: "requests",
    MailCategory.ACCOUNT: "account",
}
"""The category of a mail as its List-Id names it (``domain.mail.OutgoingMessage``)."""


def check_preference(preference: Preference) -> None:
    """BAD_USER_INPUT naming the field (``windowMinutes``, ``digestHour``,
    ``digestWeekday``) when a value is out of range."""
    low, high = WINDOW_MINUTES
    if not low <= preference.window_minutes <= high:
        raise BadUserInput(
            f"windowMinutes must be from {low} to {high}; got {preference.window_minutes}.",
            field="windowMinutes",
        )
    if not 0 <= preference.digest_hour <= 23:
        raise BadUserInput("digestHour must be from 0 to 23.", field="digestHour")
    if not 0 <= preference.digest_weekday <= 6:
        raise BadUserInput(
            "digestWeekday must be from 0 (Monday) to 6 (Sunday).", field="digestWeekday"
        )


def check_quiet_hours(quiet: QuietHours) -> None:
    """BAD_USER_INPUT (``quietHours``) for hours outside 0-23 or an empty range."""
    if not (0 <= quiet.start_hour <= 23 and 0 <= quiet.end_hour <= 23):
        raise BadUserInput("Quiet hours are whole hours from 0 to 23.", field="quietHours")
    if quiet.start_hour == quiet.end_hour:
        raise BadUserInput("Quiet hours must start and end at different hours.", field="quietHours")


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone ``name``; UTC when it is missing or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local(day: datetime, hour: int, tz: ZoneInfo) -> datetime:
    """``hour``:00 on ``day``'s local date, as UTC (a time skipped by a clock change is
    taken as the moment after it)."""
    naive = datetime(day.year, day.month, day.day, hour)
    return naive.replace(tzinfo=tz).astimezone(UTC)


def outside_quiet_hours(when: datetime, tz: ZoneInfo, quiet: QuietHours | None) -> datetime:
    """``when``, or the end of the quiet hours it falls in."""
    if quiet is None:
        return when
    local = when.astimezone(tz)
    if not quiet.contains(local.hour):
        return when
    end = _local(local, quiet.end_hour, tz)
    if end <= when:
        end = _local(local + timedelta(days=1), quiet.end_hour, tz)
    return end


def due_at(
    preference: Preference,
    *,
    first_waiting: datetime,
    now: datetime,
    tz: ZoneInfo,
    quiet: QuietHours | None,
) -> datetime | None:
    """When the mail of items waiting since ``first_waiting`` goes out: the end of the
    window (IMMEDIATE), or the next digest time after ``now``, moved out of quiet hours;
    None when the category is OFF."""
    if preference.delivery is MailDelivery.OFF:
        return None
    if preference.delivery is MailDelivery.IMMEDIATE:
        # never in the past: a batch found late inside quiet hours waits for their end
        when = max(first_waiting + timedelta(minutes=preference.window_minutes), now)
    else:
        local = now.astimezone(tz)
        when = _local(local, preference.digest_hour, tz)
        step = 1 if preference.delivery is MailDelivery.DAILY else 7
        if preference.delivery is MailDelivery.WEEKLY:
            days = (preference.digest_weekday - local.weekday()) % 7
            when = _local(local + timedelta(days=days), preference.digest_hour, tz)
        if when <= now:
            when = _local(when.astimezone(tz) + timedelta(days=step), preference.digest_hour, tz)
    return outside_quiet_hours(when, tz, quiet)
