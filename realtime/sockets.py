"""How many websockets each user holds open, across every server process.

With Redis (production) each open socket is an entry of the user's sorted set, scored by
the time it expires unless renewed; the process that holds it renews it every RENEW
seconds and removes it when it closes. A process that dies without closing its sockets
stops renewing them, so they stop counting within TTL; sockets a restarted Redis lost are
counted again at the next renewal. Without Redis, one process is the whole deployment and
a counter in memory is enough.

A process counts and uncounts its sockets in batches (infra/redis_clients.py,
:class:`~infra.redis_clients.Batcher`): the opens and closes asked for in the same moment
go to Redis as one script call, removals first, so a reconnect storm of 10,000 sockets
takes one connection and a few round trips, and a user's closed sockets are uncounted
before their new ones are counted. A removal that fails (Redis away) is kept and sent
again with the next batch or renewal, so a socket that closed never keeps counting
until TTL while Redis answers; an open that failed or was given up on, but may have been
counted all the same, is removed the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from typing import Protocol

from redis.exceptions import ConnectionError as RedisConnectionError

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
BATCH = 1000
"""Opens, and removals, sent in one script call at most (the rest go in the next one):
Redis runs a call's work at once, so this bounds how long others wait for it (a few ms)."""

# KEYS: the users' sets, first one per socket to remove, then one per socket to add.
# ARGV: now, the added entries' score (when they expire), the sets' own expiry (seconds),
# the number of removals R, R members to remove, then each addition's limit and member.
# Removals go first; each addition drops what expired, counts, and adds the socket only
# while under its limit. Returns 1 (counted) or 0 (refused) per addition, in order.
_APPLY = """
local removals = tonumber(ARGV[4])
for i = 1, removals do
  redis.call('ZREM', KEYS[i], ARGV[4 + i])
end
local counted = {}
local at = 4 + removals
for i = removals + 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[1])
  if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[at + 1]) then
    counted[#counted + 1] = 0
  else
    redis.call('ZADD', KEYS[i], ARGV[2], ARGV[at + 2])
    redis.call('EXPIRE', KEYS[i], ARGV[3])
    counted[#counted + 1] = 1
  end
  at = at + 2
end
return counted
"""


class SocketRegistry(Protocol):
    async def open(self, user_id: int, limit: int) -> str | None:
        """Count a new socket of the user: its key, or None when they hold ``limit``."""
        ...

    async def close(self, user_id: int, key: str) -> None: ...

    async def renew(self) -> None:
        """Keep this process's open sockets counted (Redis only)."""
        ...

    async def ping(self) -> None:
        """Raise when the count cannot be kept (Redis does not answer)."""
        ...

    async def aclose(self) -> None: ...


class MemorySockets:
    def __init__(self) -> None:
        self.open_per_user: Counter[int] = Counter()

    async def open(self, user_id: int, limit: int) -> str | None:
        if self.open_per_user[user_id] >= limit:
            return None
        self.open_per_user[user_id] += 1
        return uuid.uuid4().hex

    async def close(self, user_id: int, key: str) -> None:
        self.open_per_user[user_id] -= 1
        if self.open_per_user[user_id] <= 0:
            del self.open_per_user[user_id]

    async def renew(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        self.open_per_user.clear()


@dataclass
class _Opening:
    user_id: int
    limit: int
    key: str
    counted: asyncio.Future[bool] = field(default_factory=outcome)
    sent: bool = False


@dataclass
class _Closing:
    user_id: int
    until: float  # monotonic time after which it expired anyway (no longer renewed)
    sent: asyncio.Future[None] = field(default_factory=outcome)


class RedisSockets:
    def __init__(self, redis: RedisConnections | str, namespace: str, ttl: float = TTL) -> None:
        self._connections = RedisConnections.of(redis)  # the process's, or a URL's own
        self._redis = self._connections.client()
        self._namespace = namespace
        self._ttl = ttl
        self._apply = self._redis.register_script(_APPLY)
        self._held: dict[str, int] = {}  # this process's sockets: key -> user
        self._opening: list[_Opening] = []  # waiting for the next batch
        self._closing: dict[str, _Closing] = {}  # sockets to remove, by key
        self._batches = Batcher(self._send, "websocket count")

    def _key(self, user_id: int) -> str:
        return f"{self._namespace}.sockets.{user_id}"

    @bounded
    async def open(self, user_id: int, limit: int) -> str | None:
        """Count a new socket of the user with the next batch: its key, or None when they
        hold ``limit`` (their sockets closed so far uncounted first). Raises what Redis
        raised, or ``TimeoutError`` after OPERATION_TIMEOUT seconds."""
        opening = _Opening(user_id, limit, uuid.uuid4().hex)
        self._opening.append(opening)
        self._batches.schedule()
        try:
            counted = await opening.counted
        except BaseException:
            if opening.sent:  # it may count all the same: removed with the next batch
                self._uncount(user_id, opening.key)
            raise
        if not counted:
            return None
        self._held[opening.key] = user_id
        return opening.key

    async def close(self, user_id: int, key: str) -> None:
        """Uncount the socket with the next batch, and wait until the batch that carries it
        ends (each is bounded by OPERATION_TIMEOUT seconds). Never raises: when Redis fails,
        the removal is kept and sent again with the next batch or renewal."""
        self._held.pop(key, None)
        closing = self._uncount(user_id, key)
        with contextlib.suppress(Exception):
            await closing.sent

    def _uncount(self, user_id: int, key: str) -> _Closing:
        closing = self._closing.get(key)
        if closing is None:
            closing = self._closing[key] = _Closing(user_id, time.monotonic() + self._ttl)
        elif closing.sent.done():  # its caller left: a new one may wait
            closing.sent = outcome()
        self._batches.schedule()
        return closing

    async def _send(self) -> None:
        """One batch: up to BATCH removals, then up to BATCH opens, in one script call."""
        now = time.monotonic()
        for key in [key for key, c in self._closing.items() if c.until <= now]:
            settle(self._closing.pop(key).sent, None)  # the next open of the user drops it
        closing = list(islice(self._closing.items(), BATCH))
        opening = [o for o in self._opening[:BATCH] if not o.counted.done()]
        del self._opening[:BATCH]
        if len(self._closing) > len(closing) or self._opening:
            self._batches.schedule()  # the rest, right after this batch
        if not closing and not opening:
            return
        for o in opening:
            o.sent = True
        wall = time.time()
        try:
            counted = await self._apply(
                keys=[self._key(c.user_id) for _, c in closing]
                + [self._key(o.user_id) for o in opening],
                args=[wall, wall + self._ttl, int(self._ttl * 2), len(closing)]
                + [key for key, _ in closing]
                + [value for o in opening for value in (o.limit, o.key)],
            )
        except Exception as error:
            for o in opening:
                fail(o.counted, error)
            for _, c in closing:  # kept: those waiting hear of the failure now
                fail(c.sent, error)
                c.sent = outcome()
            if closing:
                log.warning(
                    "Uncounting %d websockets failed (%s); they are sent again with the next batch",
                    len(closing),
                    type(error).__name__,
                )
            raise
        for key, c in closing:
            if self._closing.get(key) is c:
                del self._closing[key]
            settle(c.sent, None)
        for o, added in zip(opening, counted, strict=True):
            settle(o.counted, bool(added))

    @bounded
    async def renew(self) -> None:
        """Send the removals that failed before, then renew the held sockets; those Redis
        lost (a restart without its data) are counted again, unless they closed meanwhile."""
        if self._closing:
            await self._batches.flush()
        if not self._held:
            return
        expires = time.time() + self._ttl
        held = list(self._held.items())
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, user_id in held:
                pipe.zadd(self._key(user_id), {key: expires}, xx=True, ch=True)
                pipe.expire(self._key(user_id), int(self._ttl * 2))
            renewed = (await pipe.execute())[::2]
        lost = [(k, u) for (k, u), done in zip(held, renewed, strict=True) if not done]
        lost = [(k, u) for k, u in lost if k in self._held]
        if not lost:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, user_id in lost:
                pipe.zadd(self._key(user_id), {key: expires})
                pipe.expire(self._key(user_id), int(self._ttl * 2))
            await pipe.execute()
        for key, user_id in lost:
            if key not in self._held:  # closed while it was added again: removed again
                self._uncount(user_id, key)

    @bounded
    async def ping(self) -> None:
        await self._redis.ping()

    async def aclose(self) -> None:
        """Uncount the sockets this process still holds (at most CLOSING_WAIT seconds,
        otherwise they stop counting within TTL), then close the connections."""
        for key, user_id in self._held.items():
            self._uncount(user_id, key)
        self._held.clear()
        if self._closing:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSING_WAIT):
                    await asyncio.gather(*(asyncio.shield(c.sent) for c in self._closing.values()))
        await self._batches.aclose()
        closed = RedisConnectionError("The count of websockets has stopped")
        for o in self._opening:
            fail(o.counted, closed)
        for c in self._closing.values():
            settle(c.sent, None)  # they stop counting within TTL
        await self._redis.aclose()
        await self._connections.release()


CLOSING_WAIT = 1.0
"""Seconds a stopping process waits for Redis to uncount the sockets it still holds."""


def socket_registry(redis: RedisConnections | str | None, namespace: str) -> SocketRegistry:
    if uses_redis(redis):
        assert redis is not None
        return RedisSockets(redis, namespace)
    return MemorySockets()


async def keep_counted(registry: SocketRegistry, every: float = RENEW) -> None:
    """Renew this process's sockets until cancelled (a task of the application's life)."""
    while True:
        await asyncio.sleep(every)
        try:
            await registry.renew()
        except Exception:  # Redis away for a while: the next round tries again
            log.warning("Renewing the count of open websockets failed", exc_info=True)
