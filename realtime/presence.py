"""Who is on a concept page right now: viewing or editing.

Each open ``pagePresence`` subscription is a *session* that renews itself every
HEARTBEAT seconds and expires TTL seconds after its last renewal; leaving removes it at
once. A process that dies therefore drops its sessions within TTL, and a client whose
connection dies is dropped as soon as the server notices (websocket pings) or, at the
latest, when its session expires. Sessions live in Redis (one hash and one expiry index
per page, shared by every server process) when the event bus uses Redis, and in memory
in the embedded default.

Within a process, all subscribers of a page share one :class:`PageWatch` (through a
:class:`PresenceHub`): a change is one read of the store, however many windows are open.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import orjson

from infra.redis_clients import RedisConnections, bounded, uses_redis
from realtime._fanout import FellBehind, LocalSubscriber

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

    def __init__(self, redis: RedisConnections | str, namespace: str, ttl: float = TTL) -> None:
        self.ttl = ttl
        self._namespace = namespace
        self._connections = RedisConnections.of(redis)  # the process's, or a URL's own
        self._redis = self._connections.client()

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
        await self._connections.release()


def presence_store(redis: RedisConnections | str | None, namespace: str) -> PresenceStore:
    if uses_redis(redis):
        assert redis is not None
        return RedisPresence(redis, namespace)
    return MemoryPresence()


WINDOWS_PER_PAGE = 5
"""Presence windows (``pagePresence`` subscriptions) one person may hold on one page."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A page's presence as one read of the store found it. ``people``: one entry per
    person ``(user_id, editing anywhere, since their first window)``, in order of arrival;
    ``windows``: how many sessions each person has; ``sessions``: their names.
    ``version`` grows by one whenever ``people`` changes."""

    version: int
    people: tuple[tuple[int, bool, float], ...]
    windows: dict[int, int]
    sessions: frozenset[str]


def _snapshot(version: int, sessions: list[Session]) -> Snapshot:
    people: dict[int, tuple[int, bool, float]] = {}
    windows: dict[int, int] = {}
    for session in sessions:
        known = people.get(session.user_id)
        if known is None:
            people[session.user_id] = (session.user_id, session.editing, session.since)
        elif session.editing and not known[1]:
            people[session.user_id] = (known[0], True, known[2])
        windows[session.user_id] = windows.get(session.user_id, 0) + 1
    names = frozenset(s.session for s in sessions)
    return Snapshot(version, tuple(people.values()), windows, names)


Subscribe = Callable[[str], AbstractAsyncContextManager[LocalSubscriber]]


class PageWatch:
    """One page's presence for every subscriber of it in this process: one task reads the
    store when a change is announced (however many changes arrived meanwhile: one read),
    when a subscriber asks for a fresh look, and every HEARTBEAT seconds (for sessions that
    expired); all subscribers share what it read. The work of a change is one read plus
    waking the subscribers, whatever their number."""

    def __init__(self, hub: PresenceHub, page_id: int) -> None:
        self._hub = hub
        self.page_id = page_id
        self.snapshot: Snapshot | None = None
        self.local_windows: dict[int, int] = {}
        self.watchers = 0
        self._failure: BaseException | None = None
        self._waiters: set[asyncio.Future[None]] = set()
        self._fresh: list[asyncio.Future[Snapshot]] = []
        self._changes: LocalSubscriber | None = None
        self._task: asyncio.Task[None] | None = None

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._failure = None
            self._task = asyncio.create_task(self._run(), name=f"presence {self.page_id}")

    async def _stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        try:
            while True:
                async with self._hub.subscribe(self._hub.channel(self.page_id)) as changes:
                    self._changes = changes
                    try:
                        while True:
                            await self._read()
                            try:
                                async with asyncio.timeout(HEARTBEAT):
                                    await changes.get()
                                while changes.pending:  # a burst of changes: one read
                                    await changes.get()
                            except TimeoutError:
                                pass
                    except FellBehind:
                        continue  # only "look again" signals were lost: look again
                    finally:
                        self._changes = None
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the store failed: every subscriber is told
            self._failure = error
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self._waiters = set()
            fresh, self._fresh = self._fresh, []
            for future in fresh:
                if not future.done():
                    future.set_exception(error)

    async def _read(self) -> None:
        asked, self._fresh = self._fresh, []
        self._hub.reads += 1
        sessions = await self._hub.store.sessions(self.page_id)
        old = self.snapshot
        version = 0 if old is None else old.version
        snapshot = _snapshot(version, sessions)
        if old is None or snapshot.people != old.people:
            snapshot = Snapshot(version + 1, snapshot.people, snapshot.windows, snapshot.sessions)
        self.snapshot = snapshot
        for future in asked:
            if not future.done():
                future.set_result(snapshot)
        if old is None or snapshot.version != old.version:
            waiters, self._waiters = self._waiters, set()
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def fresh(self) -> Snapshot:
        """A snapshot read after this call began (it sees what the caller just wrote)."""
        if self._failure is not None:
            raise self._failure
        future: asyncio.Future[Snapshot] = asyncio.get_running_loop().create_future()
        self._fresh.append(future)
        if self._changes is not None and len(self._fresh) == 1:  # one look serves them all
            self._changes.offer("look")
        return await future

    async def changed(self, seen: int) -> Snapshot:
        """The next snapshot whose people differ from version ``seen``."""
        while True:
            if self._failure is not None:
                raise self._failure
            if self.snapshot is not None and self.snapshot.version != seen:
                return self.snapshot
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.add(waiter)
            try:
                await waiter
            finally:
                self._waiters.discard(waiter)


class PresenceHub:
    """The pages this process watches for its presence subscribers (see PageWatch)."""

    def __init__(
        self, store: PresenceStore, subscribe: Subscribe, channel: Callable[[int], str]
    ) -> None:
        self.store = store
        self.subscribe = subscribe
        self.channel = channel
        self.reads = 0
        """Reads of the store so far (for tests and benchmarks)."""
        self._pages: dict[int, PageWatch] = {}

    @asynccontextmanager
    async def watch(self, page_id: int) -> AsyncIterator[PageWatch]:
        watch = self._pages.get(page_id)
        if watch is None:
            watch = self._pages[page_id] = PageWatch(self, page_id)
        watch.watchers += 1
        watch._start()
        try:
            yield watch
        finally:
            watch.watchers -= 1
            if not watch.watchers and self._pages.get(page_id) is watch:
                del self._pages[page_id]
                await watch._stop()
