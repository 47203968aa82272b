"""Headers every HTTP response of the server carries: the GraphQL endpoint (POST and GET,
answers and errors alike), uploads and downloads, the health check, Starlette's own
404/405/500 answers, and the refusal of a websocket upgrade."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.unavailable import SERVER_ERROR
from domain.availability import RETRY_AFTER

# A response that sets its own value keeps it (downloads: "private, no-store"; the web
# client's hashed assets are cached for a year).
DEFAULT_HEADERS = {
    "X-Content-Type-Options": "nosniff",  # a JSON answer is never run as a script or page
    "Cache-Control": "no-store",  # tokens, personal data: no shared or browser cache keeps it
}


UPGRADE_REFUSED = (
    "This websocket may not be opened: connect to /graphql from an allowed origin "
    "(EXTRANET_WS_ALLOWED_ORIGINS) with the graphql-transport-ws subprotocol."
)


def _refused_upgrade(close: Message) -> tuple[Message, Message]:
    """The HTTP answer to a websocket closed before it was accepted: 403 FORBIDDEN (or,
    for a server error, 503 SERVICE_UNAVAILABLE with ``Retry-After``), a JSON GraphQL error
    and DEFAULT_HEADERS, instead of the server's bare 403 without them."""
    code = close.get("code", 1000)
    reason = str(close.get("reason") or "")
    headers = [(k.lower().encode(), v.encode()) for k, v in DEFAULT_HEADERS.items()]
    headers.append((b"content-type", b"application/json"))
    if code == SERVER_ERROR:
        status = 503
        extensions: dict[str, object] = {"code": "SERVICE_UNAVAILABLE", "retryAfter": RETRY_AFTER}
        headers.append((b"retry-after", str(RETRY_AFTER).encode()))
    else:
        status, extensions = 403, {"code": "FORBIDDEN"}
    error = {"message": reason or UPGRADE_REFUSED, "extensions": extensions}
    body = json.dumps({"errors": [error]}, separators=(",", ":")).encode()
    headers.append((b"content-length", str(len(body)).encode()))
    start = {"type": "websocket.http.response.start", "status": status, "headers": headers}
    return start, {"type": "websocket.http.response.body", "body": body}


class SecurityHeaders:
    """Pure ASGI middleware adding DEFAULT_HEADERS to every HTTP response that lacks them.
    A websocket closed before it was accepted answers as :func:`_refused_upgrade` says,
    where the server can send such an answer; accepted websockets pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in DEFAULT_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if "websocket.http.response" not in (scope.get("extensions") or {}):
            await self.app(scope, receive, send)
            return
        opened = False

        async def send_refusal_with_headers(message: Message) -> None:
            nonlocal opened
            if not opened and message["type"] == "websocket.close":
                opened = True  # answered: nothing more is sent for this connection
                for part in _refused_upgrade(message):
                    await send(part)
                return
            if message["type"] in ("websocket.accept", "websocket.http.response.start"):
                opened = True
            await send(message)

        await self.app(scope, receive, send_refusal_with_headers)


class ExtranetStarlette(Starlette):
    """Starlette with :class:`SecurityHeaders` outside everything else, Starlette's own
    error middleware included, so that an unexpected error's 500 carries them too."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())
