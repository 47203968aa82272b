"""Keeping the event log in bounds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tortoise.expressions import Q, Subquery

from actions._common import audit, now
from actions.unit_of_work import unit_of_work
from domain.errors import BadUserInput
from models import Event, EventLogHorizon, Notification, WebhookEndpoint

MINIMUM_AGE = timedelta(days=1)
"""Events younger than this are kept unless the caller insists (``force``): a client that
was offline for a moment resumes from its cursor instead of refetching everything."""


WEBHOOK_EVENTS_KEPT = timedelta(days=30)
"""While any webhook endpoint exists, events are kept at least this long (even with
``force``): a receiver pulls what it missed with ``webhookEvents``."""


@dataclass(frozen=True, slots=True)
class Pruned:
    """What :func:`prune_events` did."""

    events: int
    """Events deleted."""
    kept_for_notifications: int
    """Events older than the cutoff kept because a notification refers to them (an inbox
    shows its notifications' events), or because the caller's ``keep`` holds for them."""
    notifications: int
    """Read notifications deleted (only with an explicit ``read_notifications_older_than``)."""
    oldest_kept_id: int
    """The event log's horizon: a resume cursor before this event is answered
    ``ResyncRequired`` (refetch, then carry on live)."""


async def prune_events(
    older_than: timedelta,
    *,
    read_notifications_older_than: timedelta | None = None,
    force: bool = False,
    keep: Q | None = None,
) -> Pruned:
    """Delete the events older than ``older_than`` that no notification refers to.

    Notifications are the users' inboxes and are never deleted by age alone: only read
    ones whose ``read_at`` is older than ``read_notifications_older_than``, when given
    (unread ones never). The horizon moves past the newest old event, so a client resuming
    from a cursor before it is told to refetch (``ResyncRequired``) instead of silently
    missing what was pruned; events kept for notifications are never replayed to it.

    While a webhook endpoint exists, events younger than :data:`WEBHOOK_EVENTS_KEPT` are
    kept whatever ``older_than`` says. Old events that ``keep`` matches (those of open
    requests, say: actions/retention.py) are kept too, and never replayed either.

    Raises BadUserInput for a negative age, and for an age below :data:`MINIMUM_AGE`
    unless ``force``.
    """
    for age, name in (
        (older_than, "olderThan"),
        (read_notifications_older_than, "readNotificationsOlderThan"),
    ):
        if age is not None and age < timedelta(0):
            raise BadUserInput("An age must not be negative.", field=name)
        if age is not None and age < MINIMUM_AGE and not force:
            raise BadUserInput(
                f"Ages below {MINIMUM_AGE.days} day would delete what users still need: "
                "pass force to do it anyway.",
                field=name,
            )
    if await WebhookEndpoint.exists():  # receivers pull what they missed for 30 days
        older_than = max(older_than, WEBHOOK_EVENTS_KEPT)
    moment = now()
    async with unit_of_work():
        notifications = 0
        if read_notifications_older_than is not None:
            notifications = await Notification.filter(
                read_at__isnull=False, read_at__lt=moment - read_notifications_older_than
            ).delete()
        horizon, _ = await EventLogHorizon.get_or_create(id=1)
        newest_old = await Event.filter(created_at__lt=moment - older_than).order_by("-id").first()
        if newest_old is None:
            return Pruned(0, 0, notifications, horizon.oldest_kept_id)
        last = newest_old.id
        referred = Notification.filter(event_id__lte=last).values("event_id")
        old = Event.filter(id__lte=last)
        old = old.exclude(id__in=Subquery(referred))
        deleted = await (old if keep is None else old.exclude(keep)).delete()
        kept = await Event.filter(id__lte=last).count()
        horizon.oldest_kept_id = max(horizon.oldest_kept_id, last + 1)
        await horizon.save(update_fields=["oldest_kept_id", "updated_at"])
        await audit(
            "events.pruned",
            target=f"events<{horizon.oldest_kept_id}",
            count=deleted,
            kept=kept,
            notifications=notifications,
        )
    return Pruned(deleted, kept, notifications, horizon.oldest_kept_id)
