"""When a service the API depends on (PostgreSQL, Redis) does not answer.

Every channel then answers with one typed error and no internal text: over HTTP a 503
whose body is a GraphQL error with ``extensions.code: SERVICE_UNAVAILABLE`` and
``retryAfter`` (seconds, also sent as ``Retry-After``); on a websocket, an operation gets
that error, and a socket that cannot go on is closed with 1011 (server error), after a
close frame (app/unavailable.py). The cause is logged, one line per failure, without a
traceback.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tortoise.exceptions import DBConnectionError

from domain.errors import ServiceUnavailable

log = logging.getLogger(__name__)

RETRY_AFTER = 5  # seconds a client waits before trying again

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset, aborted, broken pipe
    TimeoutError,  # a bounded Redis operation, or a connection that never opened
    socket.gaierror,  # the service's host name does not resolve (now)
    RedisConnectionError,  # includes Redis still loading its data after a restart
    RedisTimeoutError,
    DBConnectionError,
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, and a connection that died
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)


def unavailable_cause(error: BaseException | None) -> BaseException | None:
    """The failure of a service behind ``error`` (itself, what it wraps, what caused it),
    or None when ``error`` is anything else."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, _UNAVAILABLE):
            return error
        wrapped = getattr(error, "original_error", None)  # what a GraphQL error reports
        if isinstance(wrapped, BaseException):
            error = wrapped
        else:
            error = error.__cause__ or error.__context__
    return None


def as_unavailable(error: BaseException | None) -> ServiceUnavailable | None:
    """The typed error to answer for ``error`` when a service failed (the cause is logged);
    None otherwise."""
    if isinstance(error, ServiceUnavailable):
        return error
    cause = unavailable_cause(error)
    if cause is None:
        return None
    log.warning("A service is unavailable: %s: %s", type(cause).__name__, cause)
    return ServiceUnavailable(RETRY_AFTER)


@contextlib.contextmanager
def required_service() -> Iterator[None]:
    """Within the block, a service that fails raises :class:`ServiceUnavailable` (a typed
    answer for the client, the cause logged); any other error passes unchanged. For the
    protections that must not be skipped when their store is away."""
    try:
        yield
    except Exception as error:
        unavailable = as_unavailable(error)
        if unavailable is None:
            raise
        raise unavailable from error


class Coded(Protocol):
    """An error as a client reads it: its ``extensions`` (``code`` and the details)."""

    @property
    def extensions(self) -> Mapping[str, Any] | None: ...


def retry_after(errors: Iterable[Coded] | None) -> int | None:
    """The ``retryAfter`` (seconds) of the first SERVICE_UNAVAILABLE error among
    ``errors`` (domain errors or GraphQL errors alike); None when there is none."""
    for error in errors or ():
        extensions = error.extensions or {}
        if extensions.get("code") == ServiceUnavailable.code:
            return int(extensions.get("retryAfter", RETRY_AFTER))
    return None
