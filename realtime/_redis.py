"""A Redis backend for broadcaster that survives Redis restarts.

broadcaster's stock Redis backend starts listening before its first SUBSCRIBE completes
(so it may never listen at all) and stalls silently when the connection drops. This one
reads with a timeout, notices a lost connection, reconnects with capped exponential
backoff (with jitter: processes that lost Redis together do not all come back at once),
subscribes again to every channel in use, and then puts a :data:`RESYNC` message on each of
those channels so that their subscribers replay what they may have missed from the durable
event log. It publishes through the process's pool of Redis connections
(infra/redis_clients.py), and listens on a connection of its own.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from broadcaster import Event
from broadcaster._backends.base import BroadcastBackend
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from infra.redis_clients import RedisConnections, backoff, bounded
from realtime.events import Control

log = logging.getLogger(__name__)

RESYNC = Control.RESYNC.value
SUBSCRIBE_TIMEOUT = 5.0
_LOST = (RedisConnectionError, RedisTimeoutError, OSError)


class ResilientRedisBackend(BroadcastBackend):
    def __init__(
        self,
        redis: RedisConnections | str,
        *,
        initial_backoff: float = 0.1,
        max_backoff: float = 5.0,
    ) -> None:
        """``redis``: the process's connections (or a URL: connections of its own)."""
        self._connections = RedisConnections.of(redis)
        self._publisher = self._connections.client()
        # The listening side handles loss itself (to resubscribe and announce RESYNC): a
        # transparent retry would resubscribe without announcing what may have been missed.
        self._listening = self._connections.listener()
        self._pubsub: Any = None
        self._channels: set[str] = set()
        self._has_channels = asyncio.Event()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._listener: asyncio.Task[None] | None = None
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._broken = False
        self.reconnects = 0

    @property
    def lost(self) -> bool:
        """True from the moment the listener lost its connection (or a subscription was not
        confirmed) until it has reconnected and subscribed again."""
        return self._broken

    async def connect(self) -> None:
        self._pubsub = self._listening.pubsub()
        await self._publisher.ping()
        self._listener = asyncio.create_task(self._listen(), name="redis-broadcast-listener")

    async def disconnect(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self._listening.aclose()
        await self._publisher.aclose()
        await self._connections.release()

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        try:
            # a SUBSCRIBE that does not complete (seen under heavy load) must not hold the
            # subscriber forever: the listener reconnects, resubscribes and sends RESYNC
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
                await self._pubsub.subscribe(channel)
        except (*_LOST, TimeoutError):
            log.warning("Redis did not confirm a subscription; the listener will resubscribe")
            self._broken = True
        self._has_channels.set()

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if not self._channels:
            self._has_channels.clear()
        try:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
                await self._pubsub.unsubscribe(channel)
        except (*_LOST, TimeoutError):
            log.debug("Redis unreachable while unsubscribing from %s", channel)
            self._broken = True  # a new connection subscribes to the channels in use only

    @bounded
    async def publish(self, channel: str, message: Any) -> None:
        await self._publisher.publish(channel, message)

    async def next_published(self) -> Event:
        return await self._queue.get()

    async def _listen(self) -> None:
        pauses = backoff(self._initial_backoff, self._max_backoff)
        while True:
            await self._has_channels.wait()
            if self._broken:
                if not await self._reconnect():
                    await asyncio.sleep(next(pauses))
                    continue
                pauses = backoff(self._initial_backoff, self._max_backoff)
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except _LOST as error:
                log.warning("Lost the Redis connection (%s); reconnecting", error)
                self._broken = True
                continue
            except RuntimeError:
                # redis-py: no channel is subscribed on this connection yet
                await asyncio.sleep(0.05)
                continue
            if message is not None and message.get("type") == "message":
                await self._queue.put(
                    Event(channel=_text(message["channel"]), message=_text(message["data"]))
                )

    async def _reconnect(self) -> bool:
        """A new pubsub connection, subscribed to every channel in use, then RESYNC."""
        old, self._pubsub = self._pubsub, self._listening.pubsub()
        try:
            await old.aclose()
        except Exception:  # the old connection is broken anyway
            log.debug("Closing the broken pubsub connection failed", exc_info=True)
        channels = sorted(self._channels)
        try:
            if channels:
                await self._pubsub.subscribe(*channels)
        except _LOST:
            return False
        self._broken = False
        self.reconnects += 1
        log.info("Reconnected to Redis; resubscribed to %d channels", len(channels))
        for channel in channels:
            await self._queue.put(Event(channel=channel, message=RESYNC))
        return True


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
