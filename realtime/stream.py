"""A viewer's gap-free stream of events: replay from the durable log, then live.

The stream subscribes to its channel *before* it reads the log, so an event committed in
between is seen twice (replayed, then live) and delivered once; events come in id order.
An event whose transaction committed after a later one (concurrent writers) is delivered
late rather than never: recently delivered ids are remembered. Live messages carry the
whole event, so delivering one reads nothing from the database: its visibility is checked
in memory, and the viewer's right to the stream is checked again whenever rights change
(RIGHTS_CHANGED, published by the actions that remove access) and after a transport
reconnect (RESYNC), which also replays whatever the transport may have lost.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from app import cursors, policy
from app.errors import BadUserInput, Forbidden, RateLimited
from models import Event, EventLogHorizon, Notification, User
from realtime._fanout import FellBehind
from realtime._redis import RESYNC
from realtime.bus import RIGHTS_CHANGED, EventBus
from realtime.channels import feed_channel, project_channel
from realtime.events import TimelineMessage

REPLAY_BATCH = 500
REMEMBERED = 1024
DECODED = 256


def encode_cursor(event_id: int) -> str:
    return cursors.encode("event", event_id)


def decode_cursor(cursor: str) -> int:
    event_id = cursors.decode("event", cursor, lowest=0, highest=2**63 - 1)
    if event_id is None:
        raise BadUserInput("`after` must be a cursor taken from an earlier event.", field="after")
    return event_id


Scope = Callable[[], QuerySet[Event]]


@dataclass(frozen=True, slots=True)
class ResyncRequired:
    """The cursor is older than the event log reaches: refetch, then carry on from
    ``cursor`` (the stream continues live from there)."""

    cursor: int


class _Recent:
    """The ids of the last ``size`` delivered events, with constant-time lookup."""

    def __init__(self, size: int) -> None:
        self._order: deque[int] = deque()
        self._ids: set[int] = set()
        self._size = size

    def __contains__(self, event_id: int) -> bool:
        return event_id in self._ids

    def add(self, event_id: int) -> None:
        self._order.append(event_id)
        self._ids.add(event_id)
        if len(self._order) > self._size:
            self._ids.discard(self._order.popleft())


_decoded: OrderedDict[str, tuple[TimelineMessage, Event]] = OrderedDict()


def live_event(raw: str) -> tuple[TimelineMessage, Event] | None:
    """A live message and its event, decoded once per process: every subscriber of the
    channel receives the same message (the rows are only read, never changed). None for
    the transport's own signals (RESYNC, RIGHTS_CHANGED)."""
    if raw in (RESYNC, RIGHTS_CHANGED):
        return None
    found = _decoded.get(raw)
    if found is None:
        message = TimelineMessage.decode(raw)
        found = _decoded[raw] = (message, message.to_event())
        while len(_decoded) > DECODED:
            _decoded.popitem(last=False)
    return found


async def _before_horizon(after: int) -> bool:
    horizon = await EventLogHorizon.get_or_none(id=1)
    return horizon is not None and after < horizon.oldest_kept_id - 1


async def _is_active(viewer: User) -> bool:
    return await User.exists(id=viewer.id, is_active=True)


async def _replay(scope: Scope, after: int) -> AsyncIterator[Event]:
    """Events of the scope after ``after``, oldest first, in batches."""
    last = after
    while True:
        batch = await scope().filter(id__gt=last).order_by("id").limit(REPLAY_BATCH)
        for event in batch:
            yield event
        if len(batch) < REPLAY_BATCH:
            return
        last = batch[-1].id


async def _latest_id(scope: QuerySet[Event]) -> int:
    latest = await scope.order_by("-id").first()
    return latest.id if latest else 0


async def _stream(
    viewer: User,
    bus: EventBus,
    channel: str,
    scope: Scope,
    *,
    after: int | None,
    start: QuerySet[Event],
    allowed: Callable[[], Awaitable[bool]],
) -> AsyncGenerator[Event | ResyncRequired, None]:
    delivered = _Recent(REMEMBERED)

    def remember(event: Event) -> Event:
        delivered.add(event.id)
        return event

    async with bus.subscribe(channel) as subscriber:
        last = after if after is not None else await _latest_id(start)
        if after is not None and await _before_horizon(after):
            last = await _latest_id(start)
            yield ResyncRequired(cursor=last)
        async for event in _replay(scope, last):
            last = event.id
            yield remember(event)
        while True:
            try:
                raw = await subscriber.get()
            except FellBehind:
                raise RateLimited(
                    "You fell behind the live stream: subscribe again with `after` set to "
                    "the last cursor you received.",
                    resumeAfter=encode_cursor(last),
                ) from None
            if raw in (RESYNC, RIGHTS_CHANGED):
                if not await allowed():
                    raise Forbidden("You no longer have access to this.")
                if raw == RESYNC:  # messages may have been lost: read them from the log
                    async for event in _replay(scope, last):
                        last = event.id
                        if event.id not in delivered:
                            yield remember(event)
                continue
            # A live event: its message carries the whole row, so no database read. Rights
            # are re-checked when they change (RIGHTS_CHANGED above); visibility here.
            live = live_event(raw)
            assert live is not None
            message, event = live
            if message.id in delivered or not policy.can_see_visibility(viewer, message.visibility):
                continue
            last = max(last, message.id)  # an older id is a late commit: delivered, not lost
            yield remember(event)


def project_timeline(
    viewer: User, bus: EventBus, project_id: int, after: int | None
) -> AsyncGenerator[Event | ResyncRequired, None]:
    """The project's events after the cursor (or from now on), then live ones; ends with
    FORBIDDEN as soon as the viewer may no longer read the project."""

    def scope() -> QuerySet[Event]:
        return policy.visible_events(viewer).filter(project_id=project_id)

    async def allowed() -> bool:
        if not await _is_active(viewer):
            return False
        return await policy.visible_projects(viewer).filter(id=project_id).exists()

    return _stream(
        viewer,
        bus,
        project_channel(project_id),
        scope,
        after=after,
        start=Event.filter(project_id=project_id),
        allowed=allowed,
    )


def my_feed(
    viewer: User, bus: EventBus, after: int | None
) -> AsyncGenerator[Event | ResyncRequired, None]:
    """The events that notified the viewer (their watches, levels and mentions), still
    readable by them, after the cursor (or from now on), then live ones."""

    def scope() -> QuerySet[Event]:
        notified = Notification.filter(user_id=viewer.id).values("event_id")
        return policy.visible_events(viewer).filter(id__in=Subquery(notified))

    async def allowed() -> bool:
        return await _is_active(viewer)

    return _stream(
        viewer,
        bus,
        feed_channel(viewer.id),
        scope,
        after=after,
        start=Event.all(),
        allowed=allowed,
    )
