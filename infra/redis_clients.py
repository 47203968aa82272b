"""Redis clients that stay cancellable.

With a socket timeout set (redis-py's default is 5 seconds), redis-py bounds every write
with ``asyncio.wait_for``, and on Python 3.11 ``wait_for`` loses a cancellation that
arrives as the write completes: the cancelled task carries on as if nothing happened. A
``pagePresence`` subscription whose client had left then kept its window on the page,
and a stopping process could wait forever for a task it had cancelled. The clients made
here have no socket timeout; their operations are bounded instead by :func:`bounded`, a
timeout scope, which never loses a cancellation.

A pooled connection that Redis closed (a restart, an idle timeout) fails its next command;
the clients made here retry such a command once, at once, on a fresh connection, so a
restart is not seen by the caller. Redis still away then fails the command.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

CONNECT_TIMEOUT = 5.0
OPERATION_TIMEOUT = 5.0

P = ParamSpec("P")
T = TypeVar("T")


def is_redis_url(url: str) -> bool:
    """Whether a fan-out URL names Redis (``memory://`` keeps everything in one process)."""
    return url.startswith(("redis://", "rediss://"))


def redis_client(url: str, **options: Any) -> aioredis.Redis:
    """A client whose operations can always be cancelled and that retries a command once
    on a fresh connection; see the module's docstring. ``options`` go to redis-py."""
    options = {
        "retry": Retry(NoBackoff(), retries=1),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        **options,
    }
    return aioredis.Redis.from_url(
        url, socket_timeout=None, socket_connect_timeout=CONNECT_TIMEOUT, **options
    )


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
