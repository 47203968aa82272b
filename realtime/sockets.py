"""How many websockets each user holds open, across every server process.

With Redis (production) each open socket is an entry of the user's sorted set, scored by
the time it expires unless renewed; the process that holds it renews it every RENEW
seconds and removes it when it closes. A process that dies without closing its sockets
stops renewing them, so they stop counting within TTL; sockets a restarted Redis lost are
counted again at the next renewal. Without Redis, one process is the whole deployment and
a counter in memory is enough.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from typing import Protocol

from infra.redis_clients import RedisConnections, bounded, uses_redis

log = logging.getLogger(__name__)

TTL = 90.0
RENEW = 30.0

# Drop what has expired, count, and add the socket only while under the limit: atomically.
_OPEN = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
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


class RedisSockets:
    def __init__(self, redis: RedisConnections | str, namespace: str, ttl: float = TTL) -> None:
        self._connections = RedisConnections.of(redis)  # the process's, or a URL's own
        self._redis = self._connections.client()
        self._namespace = namespace
        self._ttl = ttl
        self._open_script = self._redis.register_script(_OPEN)
        self._held: dict[str, int] = {}  # this process's sockets: key -> user

    def _key(self, user_id: int) -> str:
        return f"{self._namespace}.sockets.{user_id}"

    @bounded
    async def open(self, user_id: int, limit: int) -> str | None:
        key = uuid.uuid4().hex
        now = time.time()
        added = await self._open_script(
            keys=[self._key(user_id)],
            args=[now, now + self._ttl, limit, key, int(self._ttl * 2)],
        )
        if not added:
            return None
        self._held[key] = user_id
        return key

    @bounded
    async def close(self, user_id: int, key: str) -> None:
        self._held.pop(key, None)
        await self._redis.zrem(self._key(user_id), key)

    @bounded
    async def renew(self) -> None:
        """Renew the held sockets; those Redis lost (a restart without its data) are counted
        again, unless they closed meanwhile."""
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
        for key, user_id in lost:
            if key in self._held:
                await self._redis.zadd(self._key(user_id), {key: expires})
                await self._redis.expire(self._key(user_id), int(self._ttl * 2))

    @bounded
    async def ping(self) -> None:
        await self._redis.ping()

    async def aclose(self) -> None:
        await self._redis.aclose()
        await self._connections.release()


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
