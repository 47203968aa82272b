"""The answer of every route when a service the API depends on does not answer
(domain/availability.py): over HTTP a 503 whose body is a GraphQL error with
``extensions.code: SERVICE_UNAVAILABLE`` and ``retryAfter`` (also ``Retry-After``); a
websocket is closed with 1011 (server error) and a reason, after a close frame."""

from __future__ import annotations

import contextlib

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.availability import RETRY_AFTER, as_unavailable
from domain.errors import ServiceUnavailable
from graphql_schema.errors import error_body

SERVER_ERROR = 1011  # the websocket close code for "the server cannot go on"
CLOSE_REASON = f"The service is unavailable for a moment; reconnect in {RETRY_AFTER} seconds."


def unavailable_response(error: ServiceUnavailable) -> JSONResponse:
    """HTTP 503 with the error as a GraphQL error body and the ``Retry-After`` header."""
    return JSONResponse(
        error_body(error),
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
