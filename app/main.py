"""The ASGI application: one Starlette app, one lifespan, one GraphQL endpoint."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from tortoise import connections

from app.db import close_database, open_database
from app.settings import Settings, load_settings
from graphql_schema.context import Context, build_context
from graphql_schema.schema import schema
from realtime.bus import EventBus

log = logging.getLogger("extranet")


class ExtranetGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with the typed per-request context."""

    def __init__(self, settings: Settings, bus: EventBus) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
        )
        self.settings = settings
        self.bus = bus

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        sub_response = response if isinstance(response, Response) else None
        return await build_context(request, sub_response, self.settings, self.bus)


async def health(_request: Request) -> JSONResponse:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        log.exception("Health check: the database does not answer")
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()
    bus = EventBus(settings.broadcast_url, settings.broadcast_namespace)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await open_database(settings.database_url)
        await bus.connect()
        try:
            yield
        finally:
            await bus.disconnect()
            await close_database()

    graphql = ExtranetGraphQL(settings, bus)
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", health),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.bus = bus
    return app
