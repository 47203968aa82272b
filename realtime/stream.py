"""A viewer's gap-free stream of one project's timeline: replay from the log, then live.

The stream subscribes to the project's channel *before* it reads the durable log, so an
event committed in between is seen twice (once replayed, once live) and never missed;
events are delivered in id order and at most once. An event whose transaction committed
after a later one (concurrent writers) arrives late rather than never: ids delivered
recently are remembered, and a live message for an undelivered older id is fetched.
A RESYNC from the transport (after a Redis reconnect) replays from the last delivered
id. Every delivery re-checks the viewer's right to read the project and the event's
visibility.
"""

from __future__ import annotations

import base64
import binascii
from collections import deque
from collections.abc import AsyncIterator

from app import policy
from app.errors import BadUserInput, Forbidden
from models import Event, User
from realtime._redis import RESYNC
from realtime.bus import EventBus
from realtime.channels import project_channel
from realtime.events import TimelineMessage

REPLAY_BATCH = 500
REMEMBERED = 1024


def encode_cursor(event_id: int) -> str:
    return base64.urlsafe_b64encode(f"event:{event_id}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        prefix, _, raw = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        value = int(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        value, prefix = -1, ""
    if prefix != "event" or not 0 <= value < 2**63:
        raise BadUserInput("`after` must be a cursor taken from an earlier event.", field="after")
    return value


async def _still_allowed(viewer: User, project_id: int) -> bool:
    if not await User.exists(id=viewer.id, is_active=True):
        return False
    return await policy.visible_projects(viewer).filter(id=project_id).exists()


async def _replay(viewer: User, project_id: int, after: int) -> AsyncIterator[Event]:
    """Events of the project after ``after`` that the viewer may read, oldest first."""
    last = after
    while True:
        batch = (
            await policy.visible_events(viewer)
            .filter(project_id=project_id, id__gt=last)
            .order_by("id")
            .limit(REPLAY_BATCH)
        )
        for event in batch:
            yield event
        if len(batch) < REPLAY_BATCH:
            return
        last = batch[-1].id


async def latest_event_id(project_id: int) -> int:
    latest = await Event.filter(project_id=project_id).order_by("-id").first()
    return latest.id if latest else 0


async def project_timeline(
    viewer: User, bus: EventBus, project_id: int, after: int | None
) -> AsyncIterator[Event]:
    """Yield the project's events after the cursor (or from now on), then live ones."""
    delivered: deque[int] = deque(maxlen=REMEMBERED)

    def remember(event: Event) -> Event:
        delivered.append(event.id)
        return event

    async with bus.subscribe(project_channel(project_id)) as subscriber:
        last = after if after is not None else await latest_event_id(project_id)
        async for event in _replay(viewer, project_id, last):
            last = event.id
            yield remember(event)
        while True:
            raw = (await subscriber.get()).message
            late: int | None = None
            if raw != RESYNC:
                message_id = TimelineMessage.decode(raw).id
                if message_id in delivered:
                    continue
                if message_id <= last:
                    late = message_id
            if not await _still_allowed(viewer, project_id):
                raise Forbidden("You no longer have access to this project.")
            if late is not None:
                straggler = await policy.visible_events(viewer).get_or_none(
                    id=late, project_id=project_id
                )
                if straggler is not None:
                    yield remember(straggler)
                continue
            # Read what is new from the log: in id order, including anything whose live
            # message was lost, and filtered by what the viewer may read now.
            async for event in _replay(viewer, project_id, last):
                last = event.id
                if event.id not in delivered:
                    yield remember(event)
