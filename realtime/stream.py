"""One channel's events in id order, without gaps or repeats: the transport under the
timeline subscriptions (``projectTimeline``, ``myFeed``).

Events are delivered in id order, each once, and only when every lower id is resolved and
every lower event of the channel was delivered (see realtime/horizon.py): so the cursor of
the last event a client received is always safe to resume from (``id > after``), whatever
order concurrent transactions committed or published in, in any process. The stream is
subscribed to its channel before its owner reads anything (:func:`open_events` returns
subscribed), so nothing committed in between is missed; an event read from the log and
then received live is delivered once. Live messages carry the whole event, so delivering
one reads nothing from the database.

The stream knows no rights and no query: its owner (graphql_schema/subscriptions.py) gives
it the log of its scope to read (:data:`ReadLog`), receives every live event of the channel
to decide whether its reader may see it, and is handed every control signal of the channel
(``Control.RIGHTS_CHANGED``, ``Control.RESYNC``) to check the viewer's rights again. After a
``RESYNC`` (the transport reconnected) the stream reads from the log what may have been lost.
"""

from __future__ import annotations

import asyncio
import heapq
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from domain import cursors
from domain.errors import BadUserInput
from models import Event
from realtime._fanout import LocalSubscriber
from realtime.events import Control, LiveEvents
from realtime.horizon import Gap, Horizon

if TYPE_CHECKING:
    from realtime.bus import EventBus

MESSAGE_GRACE = 2.0
"""Seconds to wait for a live message that was announced before reading it from the log."""


def encode_cursor(event_id: int) -> str:
    """The opaque cursor clients hold for the position after event ``event_id``."""
    return cursors.encode("event", event_id)


def decode_cursor(cursor: str) -> int:
    """The event id of a cursor from :func:`encode_cursor`; BadUserInput (field ``after``)
    for anything else."""
    event_id = cursors.decode("event", cursor, lowest=0, highest=2**63 - 1)
    if event_id is None:
        raise BadUserInput("`after` must be a cursor taken from an earlier event.", field="after")
    return event_id


ReadLog = Callable[[int, int | None], AsyncIterator[Event]]
"""The stream's events in the durable log after the first id and up to the second (None: no
bound), oldest first: what its reader may see of its scope."""


class _InHand:
    """Events received (or read beyond the horizon) and not delivered yet, lowest first."""

    def __init__(self) -> None:
        self._events: dict[int, Event] = {}
        self._ids: list[int] = []

    def __bool__(self) -> bool:
        return bool(self._events)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._events

    def add(self, event: Event) -> None:
        if event.id not in self._events:
            heapq.heappush(self._ids, event.id)
        self._events[event.id] = event

    def lowest(self) -> int:
        return self._ids[0]

    def pop(self) -> Event:
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


class EventStream:
    """The events of one channel after :attr:`position`, in id order, and its control
    signals. Iterating yields :class:`models.Event` rows (each once, every lower one first:
    those read from the log, and every live one of the channel, which its reader filters)
    and the :class:`Control` signals ``RIGHTS_CHANGED`` and ``RESYNC`` as they arrive;
    after a ``RESYNC`` it reads the log from its position before going on. Raises
    :class:`realtime._fanout.FellBehind` when its reader did not keep up (then
    :attr:`position` is where a new stream resumes)."""

    def __init__(
        self,
        horizon: Horizon,
        channel: str,
        subscriber: LocalSubscriber,
        read: ReadLog,
        live: LiveEvents,
    ) -> None:
        self._horizon = horizon
        self._live = live
        self._channel = channel
        self._subscriber = subscriber
        self._read = read
        self.position = horizon.resolved
        """Every event id up to here was delivered or is not the reader's."""
        self._replay_from: int | None = self.position
        self._deliver: Callable[[Event], bool] | None = None

    def resume_after(self, after: int) -> None:
        """Start after event id ``after`` (read from the log first) instead of now."""
        self.position = self._replay_from = after

    def deliver_directly(self, deliver: Callable[[Event], bool]) -> None:
        """Hand live events to ``deliver`` in the task that receives them from the channel,
        without waking the iterating task, whenever that task waits with nothing in hand
        and the event is next in order (every lower id resolved, every lower event of the
        channel delivered: the same rule as iterating). ``deliver(event)`` returns True when
        it dealt with the event completely (sent it, or found it is not its reader's), and
        False to have it yielded as usual instead; it must not raise. Control signals,
        events out of order and everything after a declined one are yielded as usual."""
        self._deliver = deliver

    def _take(self, raw: str) -> bool:
        """The channel's taker (realtime/_fanout.py ``Direct``) while the stream waits with
        nothing in hand: True when the message needs no iteration."""
        deliver = self._deliver
        if deliver is None or self._replay_from is not None:
            return False
        live = self._live.get(raw)
        if live is None:  # a control signal: its reader looks at it
            return False
        n = live[0].id
        if n <= self.position:
            return True  # delivered already (read from the log): iterating drops it too
        horizon = self._horizon
        if horizon.resolved < n - 1 or horizon.gap(self._channel, self.position, n, ()) is not (
            Gap.READY
        ):
            return False
        if not deliver(live[1]):
            return False
        self.position = n
        return True

    async def __aiter__(self) -> AsyncIterator[Event | Control]:
        horizon, channel, in_hand = self._horizon, self._channel, _InHand()
        waiting_since: float | None = None
        while True:
            if self._replay_from is not None:
                # ids up to `resolved` (taken before reading) are all in the log; later
                # ones wait their turn in hand
                resolved = horizon.resolved
                async for event in self._read(self._replay_from, None):
                    if event.id <= resolved:
                        self.position = max(self.position, event.id)
                        yield event
                    else:
                        in_hand.add(event)
                self.position = max(self.position, resolved)
                in_hand.drop_through(self.position)
                self._replay_from = None
            # deliver, in id order, what nothing lower can precede any more
            while in_hand:
                n = in_hand.lowest()
                if horizon.resolved < n - 1:
                    break
                gap = horizon.gap(channel, self.position, n, in_hand)
                if gap is Gap.WAIT:
                    now = asyncio.get_running_loop().time()
                    waiting_since = waiting_since or now
                    if now - waiting_since < MESSAGE_GRACE:
                        break
                    gap = Gap.READ_LOG  # published, but not reaching us: read it
                waiting_since = None
                if gap is Gap.READ_LOG:
                    async for event in self._read(self.position, n - 1):
                        self.position = event.id
                        yield event
                    self.position = n - 1
                    in_hand.drop_through(self.position)
                    continue
                event = in_hand.pop()
                self.position = n
                yield event
            if in_hand:
                timeout = MESSAGE_GRACE if waiting_since is not None else None
                raw = await _next(self._subscriber, horizon.changed(), timeout)
                if raw is None:
                    continue
            else:
                raw = await self._subscriber.get(self._take if self._deliver is not None else None)
            if raw in (Control.RESYNC, Control.RIGHTS_CHANGED):
                yield Control(raw)
                if raw == Control.RESYNC:  # messages may have been lost: read them from the log
                    self._replay_from = self.position
                continue
            # A live event: its message carries the whole row, so no database read.
            live = self._live.get(raw)
            assert live is not None
            message, event = live
            if message.id > self.position:
                in_hand.add(event)


@asynccontextmanager
async def open_events(bus: EventBus, channel: str, read: ReadLog) -> AsyncIterator[EventStream]:
    """The channel's :class:`EventStream`, subscribed live when this returns; it starts after
    the events resolved then, unless told :meth:`EventStream.resume_after`. Raises what
    listening to the event horizon raised (the transport is away)."""
    await bus.horizon.ready()
    async with bus.subscribe(channel) as subscriber:
        yield EventStream(bus.horizon, channel, subscriber, read, bus.live_events)
