"""Who is looking at the extranet right now: a user is *active* while one of their clients
holds a websocket and has it in the foreground (the web client says when its tab is hidden
or shown; the terminal client, which says nothing, counts while it follows).

With Redis each foreground socket is an entry of the user's sorted set, scored by the time
it expires unless renewed: the process that holds it renews it every RENEW seconds and
removes it when the socket closes or goes to the background, so a process that dies stops
counting its sockets within TTL. Without Redis one process is the whole deployment and a
set in memory is enough. Notification mail asks :meth:`ActivityStore.active` when a
notification is recorded (actions/mail_notifications.py).

A process sends its marks in batches (:class:`~infra.redis_clients.Batcher`): the marks of
the same moment go to Redis as one pipeline, so 10,000 sockets opening or closing at once
take one connection. A mark that failed (Redis away) is kept and sent again with the next
batch or renewal, unless a later mark of the same socket replaced it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import islice
from typing import Protocol

from infra.redis_clients import (
    Batcher,
    RedisConnections,
    bounded,
    fail,
    outcome,
    settle,
    uses_redis,
)

log = logging.getLogger(__name__)

TTL = 90.0
RENEW = 30.0
BATCH = 1000  # marks sent in one pipeline at most (the rest go in the next one)
CLOSING_WAIT = 1.0  # seconds a stopping process waits to send its last marks


class ActivityStore(Protocol):
    async def mark(self, user_id: int, key: str, foreground: bool) -> None:
        """Socket ``key`` of the user is in the foreground (counts) or not."""
        ...

    async def active(self, user_ids: list[int]) -> set[int]:
        """Those of these users with a socket in the foreground now."""
        ...

    async def renew(self) -> None:
        """Keep this process's foreground sockets counted (Redis only)."""
        ...

    async def close(self) -> None: ...


class MemoryActivity:
    def __init__(self) -> None:
        self._foreground: dict[int, set[str]] = {}

    async def mark(self, user_id: int, key: str, foreground: bool) -> None:
        keys = self._foreground.setdefault(user_id, set())
        if foreground:
            keys.add(key)
        else:
            keys.discard(key)
        if not keys:
            del self._foreground[user_id]

    async def active(self, user_ids: list[int]) -> set[int]:
        return {user_id for user_id in user_ids if self._foreground.get(user_id)}

    async def renew(self) -> None:
        return None

    async def close(self) -> None:
        self._foreground.clear()


@dataclass
class _Mark:
    user_id: int
    foreground: bool
    until: float  # monotonic time after which a background mark no longer matters
    sent: asyncio.Future[None] = field(default_factory=outcome)


class RedisActivity:
    def __init__(self, redis: RedisConnections | str, namespace: str, ttl: float = TTL) -> None:
        self._connections = RedisConnections.of(redis)
        self._redis = self._connections.client()
        self._namespace = namespace
        self._ttl = ttl
        self._held: dict[str, int] = {}  # this process's foreground sockets: key -> user
        self._marks: dict[str, _Mark] = {}  # waiting for the next batch, by socket key
        self._batches = Batcher(self._send, "foreground marks")

    def _key(self, user_id: int) -> str:
        return f"{self._namespace}.activity.{user_id}"

    async def mark(self, user_id: int, key: str, foreground: bool) -> None:
        """Send the mark with the next batch and wait until the batch that carries it ends
        (each is bounded by OPERATION_TIMEOUT seconds). A foreground mark raises what Redis
        raised (``TimeoutError`` when it did not answer); a background one never raises.
        Either is kept and sent again when Redis fails, unless a later mark of the socket
        replaced it."""
        if foreground:
            self._held[key] = user_id
        else:
            self._held.pop(key, None)
        mark = self._replace(key, _Mark(user_id, foreground, time.monotonic() + self._ttl))
        if foreground:
            await mark.sent
            return
        with contextlib.suppress(Exception):
            await mark.sent

    def _replace(self, key: str, mark: _Mark) -> _Mark:
        earlier = self._marks.pop(key, None)
        if earlier is not None:  # not sent: the later mark says what is true now
            settle(earlier.sent, None)
        self._marks[key] = mark
        self._batches.schedule()
        return mark

    async def _send(self) -> None:
        """One batch: up to BATCH marks in one pipeline, a ZREM and a ZADD per user."""
        now = time.monotonic()
        for key in [k for k, m in self._marks.items() if not m.foreground and m.until <= now]:
            settle(self._marks.pop(key).sent, None)
        taken = list(islice(self._marks.items(), BATCH))
        for key, _ in taken:
            del self._marks[key]
        if self._marks:
            self._batches.schedule()  # the rest, right after this batch
        if not taken:
            return
        shown: defaultdict[int, list[str]] = defaultdict(list)
        hidden: defaultdict[int, list[str]] = defaultdict(list)
        for key, mark in taken:
            (shown if mark.foreground else hidden)[mark.user_id].append(key)
        expires = time.time() + self._ttl
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for user_id, keys in hidden.items():
                    pipe.zrem(self._key(user_id), *keys)
                for user_id, keys in shown.items():
                    pipe.zadd(self._key(user_id), dict.fromkeys(keys, expires))
                    pipe.expire(self._key(user_id), int(self._ttl * 2))
                await pipe.execute()
        except Exception as error:
            for key, mark in taken:  # kept, unless a later mark replaced it meanwhile
                fail(mark.sent, error)
                if key not in self._marks:
                    self._marks[key] = _Mark(mark.user_id, mark.foreground, mark.until)
            log.warning(
                "Sending %d foreground marks failed (%s); they are sent again with the next batch",
                len(taken),
                type(error).__name__,
            )
            raise
        for _, mark in taken:
            settle(mark.sent, None)

    @bounded
    async def active(self, user_ids: list[int]) -> set[int]:
        if not user_ids:
            return set()
        now = time.time()
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.zcount(self._key(user_id), now, "+inf")
            counts = await pipe.execute()
        return {user_id for user_id, count in zip(user_ids, counts, strict=True) if count}

    @bounded
    async def renew(self) -> None:
        """Send the marks that failed before, then renew the foreground sockets."""
        if self._marks:
            await self._batches.flush()
        if not self._held:
            return
        expires = time.time() + self._ttl
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, user_id in list(self._held.items()):
                pipe.zadd(self._key(user_id), {key: expires})
                pipe.expire(self._key(user_id), int(self._ttl * 2))
            await pipe.execute()

    async def close(self) -> None:
        """Mark the foreground sockets this process still holds as gone (waiting at most
        CLOSING_WAIT seconds; otherwise they stop counting within TTL), then close the
        connections."""
        for key, user_id in self._held.items():
            self._replace(key, _Mark(user_id, False, time.monotonic() + self._ttl))
        self._held.clear()
        if self._marks:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSING_WAIT):
                    await asyncio.gather(*(asyncio.shield(m.sent) for m in self._marks.values()))
        await self._batches.aclose()
        for mark in self._marks.values():
            settle(mark.sent, None)  # they stop counting within TTL
        await self._redis.aclose()
        await self._connections.release()


def activity_store(redis: RedisConnections | str | None, namespace: str) -> ActivityStore:
    if uses_redis(redis):
        assert redis is not None
        return RedisActivity(redis, namespace)
    return MemoryActivity()


async def keep_renewed(store: ActivityStore, every: float = RENEW) -> None:
    """Renew this process's foreground sockets until cancelled."""
    while True:
        await asyncio.sleep(every)
        try:
            await store.renew()
        except Exception:  # the next renewal tries again; entries outlive one miss
            log.warning("Renewing the foreground sockets failed", exc_info=True)


def foreground_of(payload: object) -> bool | None:
    """What a client said of itself in a ``connection_init`` or ``ping`` payload
    (``{"foreground": false}``): True, False, or None when it said nothing."""
    if isinstance(payload, dict):
        value = payload.get("foreground")
        if isinstance(value, bool):
            return value
    return None
