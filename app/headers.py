"""Headers every HTTP response of the server carries: the GraphQL endpoint (POST and GET,
answers and errors alike), uploads and downloads, the health check and Starlette's own
404/405/500 answers."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A response that sets its own value keeps it (downloads: "private, no-store"; the web
# client's hashed assets are cached for a year).
DEFAULT_HEADERS = {
    "X-Content-Type-Options": "nosniff",  # a JSON answer is never run as a script or page
    "Cache-Control": "no-store",  # tokens, personal data: no shared or browser cache keeps it
}


class SecurityHeaders:
    """Pure ASGI middleware adding DEFAULT_HEADERS to every HTTP response that lacks them
    (websockets pass through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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


class ExtranetStarlette(Starlette):
    """Starlette with :class:`SecurityHeaders` outside everything else, Starlette's own
    error middleware included, so that an unexpected error's 500 carries them too."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())
