"""Redis clients that stay cancellable.

With a socket timeout set (redis-py's default is 5 seconds), redis-py bounds every write
with ``asyncio.wait_for``, and on Python 3.11 ``wait_for`` loses a cancellation that
arrives as the write completes: the cancelled task carries on as if nothing happened. A
``pagePresence`` subscription whose client had left then kept its window on the page,
and a stopping process could wait forever for a task it had cancelled. The clients made
here have no socket timeout; their operations are bounded instead by :func:`bounded`, a
timeout scope, which never loses a cancellation.

A pooled connection that Redis closed (a restart, an idle timeout) fails its next command;
the clients made here retry such a command once, after a pause of RETRY_PAUSE seconds with
jitter (so that processes do not all come back at the same instant), on a fresh connection,
so a restart is not seen by the caller. Redis still away then fails the command.

A process holds one :class:`RedisConnections`, made by the application: every store of the
process (sign-in limits, socket counts, presence, persisted documents, the publishing side
of the transport) takes its client from it, so they share one pool of connections, closed
once when the application stops. The pool holds at most POOL_SIZE connections; a command
that finds them all busy waits for one (at most OPERATION_TIMEOUT seconds) instead of
failing. Stores that write once per websocket (socket counts, foreground marks) do not
take a connection per socket: a :class:`Batcher` sends what their callers asked for in the
same moment as one command or pipeline, one at a time, so a storm of 10,000 sockets takes
one connection per store, not 10,000.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, ParamSpec, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import EqualJitterBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

CONNECT_TIMEOUT = 5.0
OPERATION_TIMEOUT = 5.0
RETRY_PAUSE = (0.05, 0.1)  # seconds before a command is tried again on a fresh connection
POOL_SIZE = 32
"""Connections a process's pool holds at most: enough for every store's single batch in
flight and for the commands of requests (sign-in limits, presence, persisted documents,
publishing) in between; more callers wait for a free one."""

P = ParamSpec("P")
T = TypeVar("T")


def is_redis_url(url: str) -> bool:
    """Whether a fan-out URL names Redis (``memory://`` keeps everything in one process)."""
    return url.startswith(("redis://", "rediss://"))


def _options(**options: Any) -> dict[str, Any]:
    return {
        # EqualJitterBackoff waits between half and all of min(cap, base * 2**failures)
        "retry": Retry(EqualJitterBackoff(cap=RETRY_PAUSE[1], base=RETRY_PAUSE[1] / 2), 1),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "socket_timeout": None,
        "socket_connect_timeout": CONNECT_TIMEOUT,
        **options,
    }


def redis_client(url: str, **options: Any) -> aioredis.Redis:
    """A client of its own (its own pool, closed with it) whose operations can always be
    cancelled and that retries a command once on a fresh connection; see the module's
    docstring. ``options`` go to redis-py."""
    return aioredis.Redis.from_url(url, **_options(**options))


class RedisConnections:
    """The connections of one process to the Redis at ``url``.

    :meth:`client` gives clients that share one pool (see the module's docstring); a
    pub/sub :meth:`listener` gets a client of its own that never retries (its owner notices
    the loss, subscribes again and says so). Made by the application and closed by it
    (:meth:`aclose`) after every store. Connections made for one store from a URL
    (:meth:`of`) are that store's own and closed when it releases them.
    """

    def __init__(self, url: str, *, private: bool = False) -> None:
        self.url = url
        self._private = private
        self._pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=POOL_SIZE, timeout=OPERATION_TIMEOUT, **_options()
        )

    @classmethod
    def of(cls, source: RedisConnections | str) -> RedisConnections:
        """The process's connections, or, for a URL, connections of the caller's own."""
        return source if isinstance(source, RedisConnections) else cls(source, private=True)

    def client(self) -> aioredis.Redis:
        """A client over the shared pool (closing it leaves the pool open)."""
        return aioredis.Redis(connection_pool=self._pool)

    def listener(self) -> aioredis.Redis:
        """A client of its own for pub/sub: a lost connection fails at once, unretried."""
        return redis_client(self.url, retry=Retry(NoBackoff(), retries=0))

    async def release(self) -> None:
        """What a store does when it closes: connections of its own are closed, the
        process's stay open for the others."""
        if self._private:
            await self.aclose()

    async def aclose(self) -> None:
        await self._pool.aclose()


def uses_redis(source: RedisConnections | str | None) -> bool:
    """Whether a store made from ``source`` keeps its data in Redis: the process's
    connections, or a URL that names Redis (``memory://`` keeps everything in one process)."""
    return isinstance(source, RedisConnections) or (
        isinstance(source, str) and is_redis_url(source)
    )


def redis_connections(url: str) -> RedisConnections | None:
    """The connections a process with this fan-out URL uses; None when it uses no Redis."""
    return RedisConnections(url) if is_redis_url(url) else None


def backoff(first: float, most: float) -> Iterator[float]:
    """Pauses before each next attempt, in seconds: doubling from ``first`` up to
    ``most``, each taken at random between its half and its whole (equal jitter), so that
    processes that lost Redis at the same moment do not all come back at the same one."""
    step = first
    while True:
        yield step / 2 + random.uniform(0, step / 2)  # noqa: S311 (timing, not secrets)
        step = min(step * 2, most)


def bounded(
    operation: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """Give up on ``operation`` with ``TimeoutError`` after OPERATION_TIMEOUT seconds: a
    Redis that stopped answering must not hold the caller forever."""

    @functools.wraps(operation)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        async with asyncio.timeout(OPERATION_TIMEOUT):
            return await operation(*args, **kwargs)

    return run


class Batcher:
    """Sends what many callers asked for in the same moment together, one send at a time.

    A store keeps what its callers ask for (counts to add, entries to remove) and gives
    ``send``, a coroutine function that takes what is waiting and writes it to Redis as one
    command or pipeline (on one pooled connection). :meth:`flush` starts a send on the
    event loop's next turn, or, while one is in flight, after it: callers of the same turn,
    and all those that came during a send, share the next one. Each send is bounded by
    OPERATION_TIMEOUT seconds.
    """

    def __init__(self, send: Callable[[], Awaitable[None]], name: str) -> None:
        self._send = send
        self._name = name
        self._next: asyncio.Future[None] | None = None  # the send the callers wait for
        self._sender: asyncio.Task[None] | None = None

    async def flush(self) -> None:
        """Return once a send that started after this call has ended.

        Raises what that send raised (a Redis error, ``TimeoutError``); a caller that is
        cancelled leaves the send to the others."""
        await asyncio.shield(self.schedule())

    def schedule(self) -> asyncio.Future[None]:
        """Have a send start after this call, without waiting for it: the future of its end."""
        if self._next is None:
            self._next = outcome()
        waiting = self._next
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._run(), name=self._name)
        return waiting

    async def _run(self) -> None:
        while self._next is not None:
            waiting, self._next = self._next, None
            try:
                async with asyncio.timeout(OPERATION_TIMEOUT):
                    await self._send()
            except asyncio.CancelledError:
                waiting.cancel()
                raise
            except Exception as error:  # the callers of this send see it
                fail(waiting, error)
            else:
                settle(waiting, None)

    async def aclose(self) -> None:
        """Stop sending (what is still waiting stays unsent)."""
        if self._sender is not None:
            self._sender.cancel()
            await asyncio.gather(self._sender, return_exceptions=True)
        if self._next is not None and not self._next.done():
            self._next.cancel()


def outcome() -> asyncio.Future[T]:
    """A future for one caller's part of a batch, to settle with :func:`settle` or
    :func:`fail`."""
    return asyncio.get_running_loop().create_future()


def settle(future: asyncio.Future[T], result: T) -> None:
    """Give the caller its part of a batch, unless it left (its future was cancelled)."""
    if not future.done():
        future.set_result(result)


def fail(future: asyncio.Future[Any], error: BaseException) -> None:
    """Raise ``error`` in the caller, unless it left; not reported as never retrieved when
    nobody waits for it any more."""
    if not future.done():
        future.set_exception(error)
        future.exception()  # seen: a caller that left is not logged as a lost failure
