"""Which event ids are settled, in one server process.

An event's id is drawn when its row is inserted, and concurrent transactions may commit in
another order (on PostgreSQL), and publish in another order still (any database, several
processes). A stream therefore delivers an event only when every lower id is *resolved*
(committed or rolled back) and every lower event of its channel was received or read from
the log; so the cursor of the last event a client received is always safe to resume from.

The event bus announces each published event on the ``TICKS`` channel, after its own
channels, with the channels it went to (:func:`tick`); the only other message there is
``Control.RESYNC``, from a transport that reconnected. Ticks come in about id order, so ``resolved``
follows them without touching the database. A gap that stays open for ``GAP_GRACE``
seconds (a transaction with a lower id still open, one rolled back, an event committed by a
process that could not publish it, ticks lost while the transport was away) is settled from
the database with :func:`models.events.resolved_through`; events found there that no tick
announced are kept as *from the log*, and a stream whose range holds one reads that range
from the log instead of waiting for live messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from bisect import bisect_right, insort
from collections import deque
from collections.abc import Container, Sequence
from enum import Enum
from typing import TYPE_CHECKING

import orjson

from models import Event
from models.events import resolved_through
from realtime._fanout import FellBehind
from realtime.events import Control

if TYPE_CHECKING:
    from realtime.bus import EventBus

log = logging.getLogger(__name__)

TICKS = "events.ticks"
GAP_GRACE = 0.25
"""Seconds a gap in the ticks may stay open before the database is asked about it."""
WINDOW = 8192
"""How many recent ticks are kept (with their channels); older ranges are read from the
log."""
RETRY = 1.0


def tick(event_id: int, channels: Sequence[str]) -> str:
    """The tick announcing that ``event_id`` was published on ``channels`` (their names
    without the bus namespace)."""
    return orjson.dumps({"id": event_id, "c": list(channels)}).decode()


class Gap(Enum):
    """What a stream at ``position`` must do before delivering event ``n``."""

    READY = "ready"
    """Every lower event of the channel after ``position`` is in hand: deliver in order."""
    WAIT = "wait"
    """A lower event of the channel was published and is still on its way."""
    READ_LOG = "read-log"
    """Some lower events may exist that no live message will bring: read the range."""


class Horizon:
    """The resolved horizon and recent ticks of one event bus (one per process)."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self.resolved = 0
        """Every event id at or below this is committed or rolled back."""
        self.floor = 0
        """Ticks at or below this are no longer indexed: ranges reaching below it are read
        from the log."""
        self._ticked: dict[int, tuple[str, ...]] = {}
        self._order: deque[int] = deque()
        self._by_channel: dict[str, list[int]] = {}
        self._from_log: list[int] = []
        self._above: set[int] = set()
        self._changed = asyncio.Event()
        self._ready: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._settling: asyncio.Task[None] | None = None

    async def ready(self) -> None:
        """Listen to the ticks (once per bus) and know the horizon; raises if that failed."""
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_future()
            self._task = asyncio.create_task(self._run(), name="event horizon")
        await asyncio.shield(self._ready)

    async def current(self) -> int:
        """The resolved horizon: from the ticks once they are listened to, otherwise asked
        of the database (so that a transport that is away fails no query)."""
        if not self._bus.connected:
            return await resolved_through()
        try:
            await self.ready()
        except Exception:
            log.warning("The event horizon is unknown; asking the database", exc_info=True)
            return await resolved_through()
        return self.resolved

    async def close(self) -> None:
        """Stop listening and forget every id seen: the next :meth:`ready` starts afresh
        (also what a test does after emptying the tables and restarting the ids)."""
        for task in (self._settling, self._task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._settling = self._task = None
        if self._ready is not None and not self._ready.done():
            self._ready.cancel()
        self._ready = None
        self.resolved = self.floor = 0
        self._ticked.clear()
        self._order.clear()
        self._by_channel.clear()
        self._from_log.clear()
        self._above.clear()
        self._notify()

    def changed(self) -> asyncio.Event:
        """Set at the next change of the horizon or of the ticks (take it before looking)."""
        return self._changed

    def gap(self, channel: str, position: int, n: int, in_hand: Container[int]) -> Gap:
        """May a stream of ``channel`` that handled every id up to ``position`` deliver event
        ``n`` now (``in_hand``: the ids it holds, received and not yet delivered)? Only
        asked once ``n - 1 <= resolved``."""
        if position < self.floor:
            return Gap.READ_LOG
        index = bisect_right(self._from_log, position)
        if index < len(self._from_log) and self._from_log[index] < n:
            return Gap.READ_LOG
        ids = self._by_channel.get(channel)
        if ids:
            index = bisect_right(ids, position)
            while index < len(ids) and ids[index] < n:
                if ids[index] not in in_hand:
                    return Gap.WAIT
                index += 1
        return Gap.READY

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _run(self) -> None:
        assert self._ready is not None
        while True:
            try:
                async with self._bus.subscribe(TICKS) as ticks:
                    if not self._ready.done():
                        self.resolved = self.floor = await resolved_through()
                        self._ready.set_result(None)
                    else:  # ticks may have been missed while we were away
                        self._settle_soon(0)
                    while True:
                        raw = await ticks.get()
                        if raw == Control.RESYNC:  # ticks may have been lost: settle
                            self._settle_soon(0)
                        else:
                            self._tick(raw)
            except asyncio.CancelledError:
                raise
            except FellBehind:
                self._settle_soon(0)
            except Exception as error:
                if not self._ready.done():
                    self._ready.set_exception(error)
                    self._ready = None
                    return
                log.warning("Listening to event ticks failed (%r); listening again", error)
                self._settle_soon(RETRY)
                await asyncio.sleep(RETRY)

    def _tick(self, raw: str) -> None:
        data = orjson.loads(raw)
        event_id = int(data["id"])
        if event_id in self._ticked or event_id <= self.floor:
            return
        channels = tuple(str(c) for c in data["c"])
        self._ticked[event_id] = channels
        self._order.append(event_id)
        for channel in channels:
            insort(self._by_channel.setdefault(channel, []), event_id)
        while len(self._order) > WINDOW:
            self._forget(self._order.popleft())
        if event_id > self.resolved:
            self._above.add(event_id)
            self._advance()
        self._notify()

    def _forget(self, event_id: int) -> None:
        self.floor = max(self.floor, event_id)
        for channel in self._ticked.pop(event_id, ()):
            ids = self._by_channel[channel]
            ids.remove(event_id)
            if not ids:
                del self._by_channel[channel]
        del self._from_log[: bisect_right(self._from_log, self.floor)]

    def _advance(self) -> None:
        while self.resolved + 1 in self._above:
            self._above.discard(self.resolved + 1)
            self.resolved += 1
        if self._above:
            self._settle_soon(GAP_GRACE)

    def _settle_soon(self, delay: float) -> None:
        if self._settling is None or self._settling.done():
            self._settling = asyncio.create_task(self._settle(delay), name="event gap")

    async def _settle(self, delay: float) -> None:
        """Close the gaps that ticks did not: ask the database how far ids are resolved,
        and remember the events there that no tick announced."""
        try:
            await asyncio.sleep(delay)
            while True:
                target = await resolved_through()
                if target > self.resolved:
                    lowest = self.resolved
                    found = [
                        int(str(i))
                        for i in await Event.filter(id__gt=lowest, id__lte=target).values_list(
                            "id", flat=True
                        )
                    ]
                    if len(found) > WINDOW:
                        self.floor = max(self.floor, target)  # too many: read ranges instead
                    else:
                        for event_id in found:
                            if event_id > self.resolved and event_id not in self._ticked:
                                insort(self._from_log, event_id)
                        while len(self._from_log) > WINDOW:  # older ranges: read the log
                            self.floor = max(self.floor, self._from_log.pop(0))
                    if target > self.resolved:
                        self.resolved = target
                        self._above = {i for i in self._above if i > target}
                        self._advance()
                        self._notify()
                if not self._above:
                    return
                await asyncio.sleep(GAP_GRACE)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Settling the event horizon failed; trying again")
            await asyncio.sleep(RETRY)
            self._settling = None
            self._settle_soon(0)
