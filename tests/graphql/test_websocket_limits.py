"""Websocket hardening: origins, the protocol, and how much one connection or one user may
hold open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest
import websockets
from starlette.applications import Starlette
from strawberry.http.websocket_origin import normalize_allowed_origins
from websockets.typing import Origin, Subprotocol

from tests.conftest import Api, gid
from tests.live import GraphQLSocket, serve
from tests.world import World

TIMELINE = "subscription ($p: ID!) { projectTimeline(projectId: $p) { __typename } }"


@pytest.fixture
async def address(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as host_and_port:
        yield host_and_port


@pytest.fixture
def partner_site(app: Starlette) -> Iterator[None]:
    view = app.state.graphql
    allowed = view.allowed_origins
    view.allowed_origins = normalize_allowed_origins(["https://partner.example"])
    yield
    view.allowed_origins = allowed


async def _opens(address: str, origin: str | None, protocol: str = "graphql-transport-ws") -> bool:
    try:
        async with websockets.connect(
            f"ws://{address}/graphql",
            origin=Origin(origin) if origin else None,
            subprotocols=[Subprotocol(protocol)],
            open_timeout=5,
        ) as connection:
            return connection.subprotocol == protocol
    except websockets.InvalidStatus:
        return False


@pytest.mark.usefixtures("partner_site")
async def test_only_listed_other_origins_may_open_a_socket(address: str) -> None:
    assert await _opens(address, None)  # apps and scripts send no Origin
    assert await _opens(address, f"http://{address}")  # the server's own pages
    assert await _opens(address, "https://partner.example")
    assert not await _opens(address, "https://evil.example")
    assert not await _opens(address, "null")  # sandboxed frames, local files


async def test_only_the_graphql_transport_ws_protocol_is_spoken(address: str) -> None:
    assert await _opens(address, None, "graphql-transport-ws")
    assert not await _opens(address, None, "graphql-ws")  # the legacy protocol


async def test_a_connection_holds_a_limited_number_of_subscriptions(
    api: Api, world: World, app: Starlette, address: str
) -> None:
    view = app.state.graphql
    view.max_subscriptions_per_connection = 2
    try:
        async with GraphQLSocket.open(address, api.token_for(world.max)) as sock:
            assert (await sock.receive())["type"] == "connection_ack"
            for op_id in ("1", "2", "3"):
                await sock.subscribe(op_id, TIMELINE, {"p": gid(world.portal)})
            refused = await sock.receive()
    finally:
        view.max_subscriptions_per_connection = app.state.settings.ws_max_subscriptions
    assert (refused["type"], refused["id"]) == ("error", "3")
    assert "limit" in refused["payload"][0]["message"]


async def test_a_user_holds_a_limited_number_of_connections(
    api: Api, world: World, app: Starlette, address: str
) -> None:
    view = app.state.graphql
    settings = view.settings
    view.settings = replace(settings, ws_max_connections_per_user=2)
    token = api.token_for(world.max)
    try:
        async with (
            GraphQLSocket.open(address, token) as first,
            GraphQLSocket.open(address, token) as second,
        ):
            for sock in (first, second):
                assert (await sock.receive())["type"] == "connection_ack"
            async with GraphQLSocket.open(address, token) as third:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await third.receive()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4403
            # another user is not affected
            async with GraphQLSocket.open(address, api.token_for(world.anna)) as other:
                assert (await other.receive())["type"] == "connection_ack"
        # once they are closed, the user may connect again
        async with GraphQLSocket.open(address, token) as again:
            assert (await again.receive())["type"] == "connection_ack"
    finally:
        view.settings = settings
    for _ in range(100):  # the server notices the last close shortly after
        if not view.sockets_per_user:
            break
        await asyncio.sleep(0.02)
    assert view.sockets_per_user == {}
