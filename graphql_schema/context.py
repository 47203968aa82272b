"""The typed per-request context: who is asking, their loaders, and the event bus.

Who is asking is settled on every HTTP request and every websocket operation by
domain/auth.py (the access token and the database together).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, TypeAlias

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as _Info

from actions import access_tokens
from domain.auth import authenticate, session_user, signed_out_error
from domain.diffing import Allowance
from domain.throttle import LoginThrottle
from graphql_schema.loaders import Loaders, SharedRowLoaders
from graphql_schema.process import ProcessState
from infra.settings import Settings
from models import User
from realtime.bus import EventBus


class Closer(Protocol):
    """What a websocket holds until it closes (a task, a timer, a watch): cancelled then."""

    def cancel(self) -> object: ...


@dataclass(slots=True)
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
    closers: list[Closer] = field(default_factory=list)  # cancelled when the socket closes
    socket_key: str | None = None  # counted against the user's open websockets
    session_id: str | None = None  # the viewer's sign-in session (refresh-token family)
    signed_out: str | None = None  # why a token sent signed nobody in (SIGNED_OUT reasons)
    diff_allowance: Allowance = field(default_factory=Allowance)  # of the request or socket
    scopes: frozenset[str] | None = None  # an access token's (domain/scopes.py); None: a session

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.viewer)

    @property
    def client_address(self) -> str:
        client = self.request.client
        return client.host if client else ""

    def act_as(self, user: User, session_id: str, scopes: frozenset[str] | None = None) -> None:
        """The rest of this request (or websocket operation) reads as ``user`` of the sign-in
        session ``session_id`` (an access token's, bounded by its ``scopes``), with fresh
        loaders."""
        self.viewer = user
        self.session_id = session_id
        self.scopes = scopes
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
        self.act_as(user, self.session_id, self.scopes)
        return True

    def require_viewer(self) -> User:
        """The viewer; UNAUTHENTICATED without one, with ``extensions.reason`` saying why
        (:data:`domain.auth.SIGNED_OUT`): ``TOKEN_EXPIRED`` asks the client to renew the
        access token with ``refreshSession``, the others to sign in."""
        if self.viewer is None:
            raise signed_out_error(self.signed_out or "TOKEN_MISSING")
        return self.viewer


Info: TypeAlias = _Info[Context, None]


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
        authentication = await authenticate(settings, request.headers.get("authorization"))
        signed_in, signed_out = authentication.signed_in, authentication.signed_out
        if signed_in is not None and signed_in.token is not None:
            client = request.client
            await access_tokens.record_use(signed_in.token, client.host if client else "")
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
        scopes=signed_in.scopes if signed_in else None,
    )
