"""A viewer's gap-free stream of events: replay from the durable log, then live.

Events are delivered in id order, each once, and only when every lower id is resolved and
every lower event of the stream was delivered (see realtime/horizon.py): so the cursor of
the last event a client received is always safe to resume from (``id > after``), whatever
order concurrent transactions committed or published in, in any process. The stream
subscribes to its channel *before* it reads the log, so nothing committed in between is
missed; an event read from the log and then received live is delivered once. Live messages
carry the whole event, so delivering one reads nothing from the database: its visibility is
checked in memory, and the viewer's right to the stream is checked again whenever rights
change (RIGHTS_CHANGED, published by the actions that remove access) and after a transport
reconnect (RESYNC), which also replays whatever the transport may have lost.
"""

from __future__ import annotations

import asyncio
import heapq
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from domain import cursors, policy
from domain.errors import BadUserInput, Forbidden, RateLimited
from infra.lru import LRU
from models import Event, EventLogHorizon, Notification, User
from realtime._fanout import FellBehind, LocalSubscriber
from realtime.bus import EventBus
from realtime.channels import feed_channel, project_channel
from realtime.events import Control, TimelineMessage
from realtime.horizon import Gap

REPLAY_BATCH = 500
DECODED = 256
MESSAGE_GRACE = 2.0
"""Seconds to wait for a live message that was announced before reading it from the log."""


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


_decoded: LRU[str, tuple[TimelineMessage, Event]] = LRU(DECODED)


def live_event(raw: str) -> tuple[TimelineMessage, Event] | None:
    """A live message and its event, decoded once per process: every subscriber of the
    channel receives the same message (the rows are only read, never changed). None for
    the transport's own signals (RESYNC, RIGHTS_CHANGED)."""
    if raw in (Control.RESYNC, Control.RIGHTS_CHANGED):
        return None
    found = _decoded.get(raw)
    if found is None:
        message = TimelineMessage.decode(raw)
        found = _decoded.put(raw, (message, message.to_event()))
    return found


async def _before_horizon(after: int) -> bool:
    horizon = await EventLogHorizon.get_or_none(id=1)
    return horizon is not None and after < horizon.oldest_kept_id - 1


async def _is_active(viewer: User) -> bool:
    return await User.exists(id=viewer.id, is_active=True)


async def _replay(scope: Scope, after: int, through: int | None = None) -> AsyncIterator[Event]:
    """Events of the scope after ``after`` (up to ``through``), oldest first, in batches."""
    last = after
    while True:
        query = scope().filter(id__gt=last)
        if through is not None:
            query = query.filter(id__lte=through)
        batch = await query.order_by("id").limit(REPLAY_BATCH)
        for event in batch:
            yield event
        if len(batch) < REPLAY_BATCH:
            return
        last = batch[-1].id


async def _latest_id(scope: QuerySet[Event]) -> int:
    latest = await scope.order_by("-id").first()
    return latest.id if latest else 0


class _InHand:
    """Events received (or read beyond the horizon) and not delivered yet, lowest first."""

    def __init__(self) -> None:
        self._events: dict[int, tuple[Event, bool]] = {}
        self._ids: list[int] = []

    def __bool__(self) -> bool:
        return bool(self._events)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._events

    def add(self, event: Event, visible: bool) -> None:
        if event.id not in self._events:
            heapq.heappush(self._ids, event.id)
        self._events[event.id] = (event, visible)

    def lowest(self) -> int:
        return self._ids[0]

    def pop(self) -> tuple[Event, bool]:
        return self._events.pop(heapq.heappop(self._ids))

    def drop_through(self, position: int) -> None:
        while self._ids and self._ids[0] <= position:
            self._events.pop(heapq.heappop(self._ids))


async def _next(
    subscriber: LocalSubscriber, changed: asyncio.Event, within: float | None
) -> str | None:
    """The next message of the channel, or None when ``changed`` was set first (or
    ``within`` seconds passed)."""
    getting = asyncio.ensure_future(subscriber.get())
    waiting = asyncio.ensure_future(changed.wait())
    try:
        await asyncio.wait((getting, waiting), timeout=within, return_when=FIRST_COMPLETED)
    finally:
        waiting.cancel()
        if not getting.done():
            getting.cancel()  # a get() that did not return takes nothing from the queue
    if not getting.done() or getting.cancelled():
        return None
    return getting.result()  # a message taken just as the horizon moved is not lost


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
    horizon = bus.horizon
    await horizon.ready()
    in_hand = _InHand()

    async with bus.subscribe(channel) as subscriber:
        position = horizon.resolved if after is None else after
        if after is not None and await _before_horizon(after):
            position = horizon.resolved
            yield ResyncRequired(cursor=await _latest_id(start.filter(id__lte=position)))
        waiting_since: float | None = None
        replay_from: int | None = position  # read the log after this, then go on live
        while True:
            if replay_from is not None:
                # ids up to `resolved` (taken before reading) are all in the log; later
                # ones wait their turn in hand
                resolved = horizon.resolved
                async for event in _replay(scope, replay_from):
                    if event.id <= resolved:
                        position = max(position, event.id)
                        yield event
                    else:
                        in_hand.add(event, True)
                position = max(position, resolved)
                in_hand.drop_through(position)
                replay_from = None
            # deliver, in id order, what nothing lower can precede any more
            while in_hand:
                n = in_hand.lowest()
                if horizon.resolved < n - 1:
                    break
                gap = horizon.gap(channel, position, n, in_hand)
                if gap is Gap.WAIT:
                    now = asyncio.get_running_loop().time()
                    waiting_since = waiting_since or now
                    if now - waiting_since < MESSAGE_GRACE:
                        break
                    gap = Gap.READ_LOG  # published, but not reaching us: read it
                waiting_since = None
                if gap is Gap.READ_LOG:
                    async for event in _replay(scope, position, through=n - 1):
                        position = event.id
                        yield event
                    position = n - 1
                    in_hand.drop_through(position)
                    continue
                event, visible = in_hand.pop()
                position = n
                if visible:
                    yield event
            try:
                if in_hand:
                    timeout = MESSAGE_GRACE if waiting_since is not None else None
                    raw = await _next(subscriber, horizon.changed(), timeout)
                    if raw is None:
                        continue
                else:
                    raw = await subscriber.get()
            except FellBehind:
                raise RateLimited(
                    "You fell behind the live stream: subscribe again with `after` set to "
                    "the last cursor you received.",
                    resumeAfter=encode_cursor(position),
                ) from None
            if raw in (Control.RESYNC, Control.RIGHTS_CHANGED):
                if not await allowed():
                    raise Forbidden("You no longer have access to this.")
                if raw == Control.RESYNC:  # messages may have been lost: read them from the log
                    replay_from = position
                continue
            # A live event: its message carries the whole row, so no database read. Rights
            # are re-checked when they change (RIGHTS_CHANGED above); visibility here.
            live = live_event(raw)
            assert live is not None
            message, event = live
            if message.id > position:
                in_hand.add(event, policy.can_see_visibility(viewer, message.visibility))


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
