"""The typed per-request context: who is asking, their loaders, and the event bus."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TypeAlias

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as _Info

from app.errors import Unauthenticated
from app.settings import Settings
from app.throttle import LoginThrottle
from app.tokens import decode_access_token
from graphql_schema.loaders import Loaders, SharedRowLoaders
from models import User
from realtime.bus import EventBus


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | None
    settings: Settings
    bus: EventBus
    viewer: User | None
    shared_rows: SharedRowLoaders
    throttle: LoginThrottle
    loaders: Loaders = field(init=False)
    connection_params: dict[str, object] | None = None
    closers: list[asyncio.Task[None]] = field(default_factory=list)
    socket_key: str | None = None  # counted against the user's open websockets

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.viewer)

    @property
    def client_address(self) -> str:
        client = self.request.client
        return client.host if client else ""

    def act_as(self, user: User) -> None:
        """The rest of this request reads as a user who has just signed in."""
        self.viewer = user
        self.loaders = Loaders(user)

    def require_viewer(self) -> User:
        if self.viewer is None:
            raise Unauthenticated("Sign in first: send a valid access token.")
        return self.viewer


Info: TypeAlias = _Info[Context, None]


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def viewer_from_token(settings: Settings, token: str | None) -> User | None:
    """The active user the access token names, or None for a missing or invalid token."""
    signed_in = await session_from_token(settings, token)
    return signed_in[0] if signed_in else None


async def session_from_token(settings: Settings, token: str | None) -> tuple[User, int] | None:
    """The active user the access token names and when the token expires."""
    if token is None:
        return None
    claims = decode_access_token(settings, token)
    if claims is None:
        return None
    user = await User.get_or_none(id=claims.user_id, is_active=True)
    return (user, claims.expires_at) if user else None


async def build_context(
    request: Request | WebSocket,
    response: Response | None,
    settings: Settings,
    bus: EventBus,
    shared_rows: SharedRowLoaders,
    throttle: LoginThrottle,
) -> Context:
    viewer = None
    if isinstance(request, Request):
        # Websockets authenticate with the connection_init payload instead (on_ws_connect).
        viewer = await viewer_from_token(
            settings, bearer_token(request.headers.get("authorization"))
        )
    return Context(
        request=request,
        response=response,
        settings=settings,
        bus=bus,
        viewer=viewer,
        shared_rows=shared_rows,
        throttle=throttle,
    )
