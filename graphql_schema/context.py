"""The typed per-request context: who is asking, their loaders, and the event bus.

Who is asking is settled by the access token and the database together, on every HTTP
request and every websocket operation: the token's user must be active and the sign-in
session it names must not have ended (logout, a reused refresh token, removal), all read
with the one query that loads the user.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TypeAlias

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as _Info
from tortoise.expressions import Subquery

from domain.errors import Unauthenticated
from domain.throttle import LoginThrottle
from domain.tokens import access_token_expired, decode_access_token
from graphql_schema.loaders import Loaders, SharedRowLoaders
from graphql_schema.process import ProcessState
from infra.settings import Settings
from models import RefreshToken, User
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
    process: ProcessState  # what the process keeps for every request (caches)
    loaders: Loaders = field(init=False)
    connection_params: dict[str, object] | None = None
    closers: list[asyncio.Task[None]] = field(default_factory=list)
    socket_key: str | None = None  # counted against the user's open websockets
    session_id: str | None = None  # the viewer's sign-in session (refresh-token family)
    signed_out: str | None = None  # why a token sent signed nobody in (SIGNED_OUT reasons)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.viewer)

    @property
    def client_address(self) -> str:
        client = self.request.client
        return client.host if client else ""

    def act_as(self, user: User, session_id: str) -> None:
        """The rest of this request (or websocket operation) reads as ``user`` of the sign-in
        session ``session_id``, with fresh loaders."""
        self.viewer = user
        self.session_id = session_id
        self.loaders = Loaders(user)

    async def still_signed_in(self) -> bool:
        """Authenticate again (each websocket operation): False when the viewer was removed
        or deactivated or their session ended; otherwise the viewer is read afresh (a
        changed role or customer counts from here on)."""
        if self.viewer is None or self.session_id is None:
            return False
        user = await session_user(self.viewer.id, self.session_id)
        if user is None:
            return False
        self.act_as(user, self.session_id)
        return True

    def require_viewer(self) -> User:
        """The viewer; UNAUTHENTICATED without one, with ``extensions.reason`` saying why
        (:data:`SIGNED_OUT`): ``TOKEN_EXPIRED`` asks the client to renew the access token
        with ``refreshSession``, the others to sign in."""
        if self.viewer is None:
            raise signed_out_error(self.signed_out or "TOKEN_MISSING")
        return self.viewer


SIGNED_OUT = {
    "TOKEN_MISSING": "Sign in first: send a valid access token.",
    "TOKEN_INVALID": "The access token is not valid: send one from login or refreshSession.",
    "TOKEN_EXPIRED": "The access token has expired: renew it with refreshSession and try again.",
    "SESSION_ENDED": "The session has ended or the account was removed: sign in again.",
}
"""Why a request has no viewer (``extensions.reason`` of UNAUTHENTICATED), and what to do."""


def signed_out_error(reason: str) -> Unauthenticated:
    """UNAUTHENTICATED with ``extensions.reason`` (a key of :data:`SIGNED_OUT`)."""
    return Unauthenticated(SIGNED_OUT[reason], reason=reason)


def signed_out_reason(
    settings: Settings, token: str | None, signed_in: SignedIn | None
) -> str | None:
    """Why ``token`` signed nobody in (a key of :data:`SIGNED_OUT`); None when it did."""
    if signed_in is not None:
        return None
    if token is None:
        return "TOKEN_MISSING"
    if decode_access_token(settings, token) is not None:
        return "SESSION_ENDED"
    return "TOKEN_EXPIRED" if access_token_expired(settings, token) else "TOKEN_INVALID"


Info: TypeAlias = _Info[Context, None]


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    session_id: str
    expires_at: int  # when the access token expires, Unix time in seconds


async def session_user(user_id: int, session_id: str) -> User | None:
    """The user, if active and their sign-in session ``session_id`` has not ended; one
    query (the session's revocation is a subquery of the user's lookup)."""
    ended = RefreshToken.filter(family=session_id, revoked_at__isnull=False).values("user_id")
    return await User.filter(id=user_id, is_active=True).exclude(id__in=Subquery(ended)).first()


async def viewer_from_token(settings: Settings, token: str | None) -> User | None:
    """The active user the access token names, or None for a missing or invalid token or
    an ended session."""
    signed_in = await session_from_token(settings, token)
    return signed_in.user if signed_in else None


async def session_from_token(settings: Settings, token: str | None) -> SignedIn | None:
    """Who the access token signs in, while they are active and its session lasts."""
    if token is None:
        return None
    claims = decode_access_token(settings, token)
    if claims is None:
        return None
    user = await session_user(claims.user_id, claims.session_id)
    return SignedIn(user, claims.session_id, claims.expires_at) if user else None


async def build_context(
    request: Request | WebSocket,
    response: Response | None,
    settings: Settings,
    bus: EventBus,
    shared_rows: SharedRowLoaders,
    throttle: LoginThrottle,
    process: ProcessState,
) -> Context:
    signed_in = signed_out = None
    if isinstance(request, Request):
        # Websockets authenticate with the connection_init payload instead (on_ws_connect).
        token = bearer_token(request.headers.get("authorization"))
        signed_in = await session_from_token(settings, token)
        signed_out = signed_out_reason(settings, token, signed_in)
    return Context(
        request=request,
        response=response,
        settings=settings,
        bus=bus,
        viewer=signed_in.user if signed_in else None,
        shared_rows=shared_rows,
        throttle=throttle,
        process=process,
        session_id=signed_in.session_id if signed_in else None,
        signed_out=signed_out,
    )
