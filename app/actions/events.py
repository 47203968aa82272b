"""Keeping the event log in bounds."""

from __future__ import annotations

from datetime import timedelta

from tortoise.transactions import in_transaction

from app.actions._common import audit, now
from models import Event, EventLogHorizon


async def prune_events(older_than: timedelta) -> int:
    """Delete the events (and their notifications) older than this; answers how many.

    The horizon is recorded so that a client resuming from a cursor before it is told to
    refetch (``ResyncRequired``) instead of silently missing what was pruned.
    """
    cutoff = now() - older_than
    async with in_transaction():
        newest_old = await Event.filter(created_at__lt=cutoff).order_by("-id").first()
        if newest_old is None:
            return 0
        deleted = await Event.filter(id__lte=newest_old.id).delete()
        horizon, _ = await EventLogHorizon.get_or_create(id=1)
        horizon.oldest_kept_id = max(horizon.oldest_kept_id, newest_old.id + 1)
        await horizon.save(update_fields=["oldest_kept_id", "updated_at"])
        await audit("events.pruned", target=f"events<{horizon.oldest_kept_id}", count=deleted)
    return deleted
