"""The largest request the GraphQL endpoint reads: an HTTP body, or one websocket message.

:class:`LimitedRequests` wraps an ASGI app. An HTTP request whose ``Content-Length`` is
over the limit is answered at once, unread; any other body (chunked, or shorter than it
claimed) is read up to the limit and no further, then handed to the app whole. Either way
an oversized body is answered ``413`` with a GraphQL error (``BAD_USER_INPUT``,
``extensions.limit`` ``"bodyBytes"`` and ``maximum``). A websocket message over the limit
closes the socket with ``1009`` (message too big), as the server's own frame limit does.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MESSAGE_TOO_BIG = 1009


class _TooLarge(Exception):
    pass


def too_large_body(max_bytes: int) -> bytes:
    """The JSON of the answer to an oversized request."""
    error = {
        "message": f"The request is larger than {max_bytes:,} bytes: send less at once.",
        "extensions": {"code": "BAD_USER_INPUT", "limit": "bodyBytes", "maximum": max_bytes},
    }
    return json.dumps({"data": None, "errors": [error]}).encode()


class LimitedRequests:
    """Refuse HTTP bodies and websocket messages larger than ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self.app(scope, self._websocket_receive(receive, send), send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        try:
            messages = await self._read(receive)
        except _TooLarge:
            await self._refuse(send)
            return
        await self.app(scope, _replay(messages, receive), send)

    async def _read(self, receive: Receive) -> list[Message]:
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages  # the client went away: the app sees it as it would
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                raise _TooLarge
            if not message.get("more_body", False):
                return messages

    async def _refuse(self, send: Send) -> None:
        body = too_large_body(self.max_bytes)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _websocket_receive(self, receive: Receive, send: Send) -> Receive:
        async def limited() -> Message:
            message = await receive()
            if message["type"] == "websocket.receive":
                text = (message.get("text") or "").encode("utf-8", "surrogatepass")
                size = len(message.get("bytes") or b"") + len(text)
                if size > self.max_bytes:
                    reason = f"A message is at most {self.max_bytes:,} bytes."
                    await send(
                        {"type": "websocket.close", "code": MESSAGE_TOO_BIG, "reason": reason}
                    )
                    return {"type": "websocket.disconnect", "code": MESSAGE_TOO_BIG}
            return message

        return limited


def _replay(messages: list[Message], receive: Receive) -> Callable[[], Awaitable[Message]]:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()  # after the body: a disconnect, when the client leaves

    return replay
