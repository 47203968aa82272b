"""In-process fan-out with bounded queues: one upstream subscription per channel, however
many local subscribers it has, and no subscriber can grow memory without bound."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager

from broadcaster import Broadcast

log = logging.getLogger(__name__)

QUEUE_LIMIT = 256
PREPARE_TIMEOUT = 5.0

Prepare = Callable[[str], Awaitable[None]]


class FellBehind(Exception):
    """The subscriber did not keep up and its queue overflowed: it must resume from its
    cursor (the durable event log has everything it missed)."""


class _Closed(Exception):
    pass


Direct = Callable[[str], bool]
"""Takes a message at once, in the offering task, instead of queueing it for the reader:
True when it handled the message (the reader never sees it), False to queue it as usual."""


class LocalSubscriber:
    """A bounded queue with one reader: offering wakes the reader, if it waits, through a
    single future (the cheapest wake-up asyncio has; thousands happen per message).

    A reader that waits with nothing queued may name a :data:`Direct` taker (:meth:`get`):
    while it waits, each message offered goes to the taker first, in the offering task,
    so a reader that is idle and in order costs no wake-up at all. A message the taker
    declines, and every message after it, is queued and read as usual, in order."""

    __slots__ = ("_direct", "_failure", "_limit", "_messages", "_waiter")

    def __init__(self, limit: int) -> None:
        self._messages: deque[str] | None = None  # made when the first message waits
        self._limit = limit
        self._failure: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._direct: Direct | None = None

    @property
    def pending(self) -> int:
        """Messages offered and not read yet."""
        return len(self._messages) if self._messages is not None else 0

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def offer(self, message: str) -> None:
        if self._failure is not None:
            return
        direct, waiter = self._direct, self._waiter
        # only while the reader waits and was not woken: nothing is queued before it then
        if direct is not None and waiter is not None and not waiter.done():
            try:
                if direct(message):
                    return
            except Exception:  # the reader meets the message, and its failure, itself
                log.exception("Taking a message at once failed; queueing it")
        messages = self._messages
        if messages is None:
            messages = self._messages = deque()
        elif len(messages) >= self._limit:
            self._messages = None  # free the memory at once
            self.fail(FellBehind())
            return
        messages.append(message)
        self._wake()

    def fail(self, failure: BaseException) -> None:
        self._failure = failure
        self._wake()

    async def get(self, direct: Direct | None = None) -> str:
        """The next message; raises :class:`FellBehind` after an overflow. ``direct``: the
        taker of the messages offered while this waits with nothing queued."""
        while True:
            if self._failure is not None:
                raise self._failure
            messages = self._messages
            if messages:
                message = messages.popleft()
                if not messages:
                    self._messages = None  # an idle subscriber holds no buffer
                return message
            self._waiter = asyncio.get_running_loop().create_future()
            self._direct = direct
            try:
                await self._waiter
            finally:
                self._waiter = None
                self._direct = None


class _Channel:
    def __init__(self) -> None:
        self.subscribers: set[LocalSubscriber] = set()
        self.ready = asyncio.Event()
        self.pump: asyncio.Task[None] | None = None


class Fanout:
    def __init__(self, broadcast: Broadcast, limit: int = QUEUE_LIMIT) -> None:
        self._broadcast = broadcast
        self._limit = limit
        self._channels: dict[str, _Channel] = {}
        self._preparers: dict[str, dict[Hashable, list[Prepare]]] = {}

    def prepare(self, name: str, key: Hashable, prepare: Prepare) -> Callable[[], None]:
        """Run ``prepare(message)`` before the channel's subscribers get each message, once
        per ``key`` however many registered it: work they would all wait for otherwise
        (thousands of subscribers woken at once, then woken again when it is done). A
        preparer that fails or takes longer than PREPARE_TIMEOUT only costs its time: the
        subscribers get the message regardless. Returns the function that unregisters it."""
        registered = self._preparers.setdefault(name, {}).setdefault(key, [])
        registered.append(prepare)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                registered.remove(prepare)
            keyed = self._preparers.get(name, {})
            if not registered and keyed.get(key) is registered:
                del keyed[key]
                if not keyed:
                    self._preparers.pop(name, None)

        return remove

    async def _prepared(self, name: str, message: str) -> None:
        keyed = self._preparers.get(name)
        if not keyed:
            return
        jobs = [asyncio.ensure_future(fns[-1](message)) for fns in keyed.values() if fns]
        done, pending = await asyncio.wait(jobs, timeout=PREPARE_TIMEOUT)
        for job in pending:
            job.cancel()
        for job in done:
            if not job.cancelled() and (error := job.exception()) is not None:
                log.warning("Preparing a message of %s failed: %r", name, error)

    def subscriber_count(self, channel: str) -> int:
        found = self._channels.get(channel)
        return len(found.subscribers) if found else 0

    async def _pump(self, name: str, channel: _Channel) -> None:
        try:
            async with self._broadcast.subscribe(name) as upstream:
                channel.ready.set()
                while True:
                    event = await upstream.get()
                    await self._prepared(name, event.message)
                    for subscriber in list(channel.subscribers):
                        subscriber.offer(event.message)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("The subscription to %s failed", name)
            for subscriber in list(channel.subscribers):
                subscriber.fail(error)

    @asynccontextmanager
    async def subscribe(self, name: str) -> AsyncIterator[LocalSubscriber]:
        channel = self._channels.get(name)
        if channel is None:
            channel = self._channels[name] = _Channel()
            channel.pump = asyncio.create_task(self._pump(name, channel), name=f"fanout {name}")
        subscriber = LocalSubscriber(self._limit)
        channel.subscribers.add(subscriber)
        try:
            await channel.ready.wait()  # subscribed upstream before the caller reads the log
            yield subscriber
        finally:
            channel.subscribers.discard(subscriber)
            if not channel.subscribers and self._channels.get(name) is channel:
                del self._channels[name]
                if channel.pump is not None:
                    channel.pump.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await channel.pump
