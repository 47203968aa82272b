"""When a service the API depends on (PostgreSQL, Redis) does not answer.

Every channel then answers with one typed error and no internal text: over HTTP a 503
whose body is a GraphQL error with ``extensions.code: SERVICE_UNAVAILABLE`` and
``retryAfter`` (seconds, also sent as ``Retry-After``); on a websocket, an operation gets
that error, and a socket that cannot go on is closed with 1011 (server error), after a
close frame. The cause is logged, one line per failure, without a traceback.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterable, Iterator

import asyncpg
from graphql import GraphQLError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise.exceptions import DBConnectionError

from domain.errors import ServiceUnavailable

log = logging.getLogger(__name__)

RETRY_AFTER = 5  # seconds a client waits before trying again
SERVER_ERROR = 1011  # the websocket close code for "the server cannot go on"
CLOSE_REASON = f"The service is unavailable for a moment; reconnect in {RETRY_AFTER} seconds."

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
        if isinstance(error, GraphQLError) and error.original_error is not None:
            error = error.original_error
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


def retry_after(errors: Iterable[GraphQLError] | None) -> int | None:
    """The ``retryAfter`` (seconds) of the first SERVICE_UNAVAILABLE error among
    ``errors``; None when there is none."""
    for error in errors or ():
        extensions = error.extensions or {}
        if extensions.get("code") == ServiceUnavailable.code:
            return int(extensions.get("retryAfter", RETRY_AFTER))
    return None


def unavailable_response(error: ServiceUnavailable) -> JSONResponse:
    """HTTP 503 with the error as a GraphQL error body and the ``Retry-After`` header."""
    return JSONResponse(
        {"errors": [error.formatted]},
        status_code=503,
        headers={"Retry-After": str(error.retry_after), "Cache-Control": "no-store"},
    )


class ServiceBoundary:
    """ASGI middleware: a request that fails because a service is unavailable answers 503
    (see :func:`unavailable_response`) instead of a bare 500; a websocket is closed with
    1011 and a reason instead of being dropped. Other failures pass through unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        answered = False

        async def tracked(message: Message) -> None:
            nonlocal answered
            if message["type"] in ("http.response.start", "websocket.close"):
                answered = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as failure:
            error = as_unavailable(failure)
            if error is None or answered:
                raise
            if scope["type"] == "http":
                await unavailable_response(error)(scope, receive, send)
                return
            with contextlib.suppress(Exception):  # the client may have gone already
                await send(
                    {"type": "websocket.close", "code": SERVER_ERROR, "reason": CLOSE_REASON}
                )
