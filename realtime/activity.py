"""Who is looking at the extranet right now: a user is *active* while one of their clients
holds a websocket and has it in the foreground (the web client says when its tab is hidden
or shown; the terminal client, which says nothing, counts while it follows).

With Redis each foreground socket is an entry of the user's sorted set, scored by the time
it expires unless renewed: the process that holds it renews it every RENEW seconds and
removes it when the socket closes or goes to the background, so a process that dies stops
counting its sockets within TTL. Without Redis one process is the whole deployment and a
set in memory is enough. Notification mail asks :meth:`ActivityStore.active` when a
notification is recorded (actions/mail_notifications.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from infra.redis_clients import RedisConnections, bounded, uses_redis

log = logging.getLogger(__name__)

TTL = 90.0
RENEW = 30.0


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


class RedisActivity:
    def __init__(self, redis: RedisConnections | str, namespace: str, ttl: float = TTL) -> None:
        self._connections = RedisConnections.of(redis)
        self._redis = self._connections.client()
        self._namespace = namespace
        self._ttl = ttl
        self._held: dict[str, int] = {}  # this process's foreground sockets: key -> user

    def _key(self, user_id: int) -> str:
        return f"{self._namespace}.activity.{user_id}"

    @bounded
    async def mark(self, user_id: int, key: str, foreground: bool) -> None:
        if foreground:
            self._held[key] = user_id
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zadd(self._key(user_id), {key: time.time() + self._ttl})
                pipe.expire(self._key(user_id), int(self._ttl * 2))
                await pipe.execute()
        else:
            self._held.pop(key, None)
            await self._redis.zrem(self._key(user_id), key)

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
        if not self._held:
            return
        expires = time.time() + self._ttl
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, user_id in list(self._held.items()):
                pipe.zadd(self._key(user_id), {key: expires})
                pipe.expire(self._key(user_id), int(self._ttl * 2))
            await pipe.execute()

    async def close(self) -> None:
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
