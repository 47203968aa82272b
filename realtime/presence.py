"""Who is on a concept page right now: viewing or editing.

Each open ``pagePresence`` subscription is a *session* that renews itself every
HEARTBEAT seconds and expires TTL seconds after its last renewal; leaving removes it at
once. A process that dies therefore drops its sessions within TTL, and a client whose
connection dies is dropped as soon as the server notices (websocket pings) or, at the
latest, when its session expires. Sessions live in Redis (one hash and one expiry index
per page, shared by every server process) when the event bus uses Redis, and in memory
in the embedded default.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import orjson

from realtime.redis_clients import bounded, is_redis_url, redis_client

TTL = 15.0
HEARTBEAT = 5.0


@dataclass(frozen=True, slots=True)
class Session:
    session: str
    user_id: int
    editing: bool
    since: float


class PresenceStore(Protocol):
    async def renew(self, page_id: int, session: Session) -> None: ...

    async def leave(self, page_id: int, session: str) -> None: ...

    async def set_editing(self, page_id: int, user_id: int, editing: bool) -> bool:
        """Mark every session of the user on the page; False when they have none."""
        ...

    async def sessions(self, page_id: int) -> list[Session]:
        """The sessions that have not expired, oldest first."""
        ...

    async def close(self) -> None: ...


class MemoryPresence:
    def __init__(self, ttl: float = TTL) -> None:
        self.ttl = ttl
        self._pages: dict[int, dict[str, tuple[Session, float]]] = {}

    async def renew(self, page_id: int, session: Session) -> None:
        page = self._pages.setdefault(page_id, {})
        known = page.get(session.session)
        editing = known[0].editing if known else session.editing
        kept = Session(session.session, session.user_id, editing, session.since)
        page[session.session] = (kept, time.time() + self.ttl)

    async def leave(self, page_id: int, session: str) -> None:
        self._pages.get(page_id, {}).pop(session, None)

    async def set_editing(self, page_id: int, user_id: int, editing: bool) -> bool:
        page = self._pages.get(page_id, {})
        found = False
        for key, (entry, expires) in list(page.items()):
            if entry.user_id == user_id:
                page[key] = (Session(entry.session, user_id, editing, entry.since), expires)
                found = True
        return found

    async def sessions(self, page_id: int) -> list[Session]:
        page = self._pages.get(page_id, {})
        now = time.time()
        for key, (_, expires) in list(page.items()):
            if expires <= now:
                del page[key]
        if not page:
            self._pages.pop(page_id, None)
        return sorted((entry for entry, _ in page.values()), key=lambda s: s.since)

    async def close(self) -> None:
        self._pages.clear()


class RedisPresence:
    """Per page: a hash of sessions (``presence.<page>``) and a sorted set of their expiry
    times (``presence-expiry.<page>``); both keys expire when a page is left alone."""

    def __init__(self, url: str, namespace: str, ttl: float = TTL) -> None:
        self.ttl = ttl
        self._namespace = namespace
        self._redis = redis_client(url)

    def _keys(self, page_id: int) -> tuple[str, str]:
        return (
            f"{self._namespace}.presence.{page_id}",
            f"{self._namespace}.presence-expiry.{page_id}",
        )

    @bounded
    async def renew(self, page_id: int, session: Session) -> None:
        sessions, expiry = self._keys(page_id)
        known = await self._redis.hget(sessions, session.session)
        editing = bool(orjson.loads(known)["editing"]) if known else session.editing
        entry = {"user": session.user_id, "editing": editing, "since": session.since}
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(sessions, session.session, orjson.dumps(entry))
            pipe.zadd(expiry, {session.session: time.time() + self.ttl})
            pipe.expire(sessions, int(self.ttl * 3))
            pipe.expire(expiry, int(self.ttl * 3))
            await pipe.execute()

    @bounded
    async def leave(self, page_id: int, session: str) -> None:
        sessions, expiry = self._keys(page_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(sessions, session)
            pipe.zrem(expiry, session)
            await pipe.execute()

    @bounded
    async def set_editing(self, page_id: int, user_id: int, editing: bool) -> bool:
        sessions, _ = self._keys(page_id)
        found = False
        for entry in await self.sessions(page_id):
            if entry.user_id == user_id:
                data = {"user": user_id, "editing": editing, "since": entry.since}
                await self._redis.hset(sessions, entry.session, orjson.dumps(data))
                found = True
        return found

    @bounded
    async def sessions(self, page_id: int) -> list[Session]:
        sessions, expiry = self._keys(page_id)
        expired = await self._redis.zrangebyscore(expiry, "-inf", time.time())
        if expired:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hdel(sessions, *expired)
                pipe.zrem(expiry, *expired)
                await pipe.execute()
        found = []
        for key, raw in (await self._redis.hgetall(sessions)).items():
            data = orjson.loads(raw)
            name = key.decode() if isinstance(key, bytes) else str(key)
            found.append(Session(name, int(data["user"]), bool(data["editing"]), data["since"]))
        return sorted(found, key=lambda s: s.since)

    async def close(self) -> None:
        await self._redis.aclose()


def presence_store(url: str, namespace: str) -> PresenceStore:
    if is_redis_url(url):
        return RedisPresence(url, namespace)
    return MemoryPresence()
