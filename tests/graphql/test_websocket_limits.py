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

from realtime.sockets import RedisSockets
from tests.conftest import Api, gid
from tests.live import GraphQLSocket, serve, until
from tests.services import RedisProcess
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
    [error] = refused["payload"]
    assert error["message"].startswith("Subscription limit reached")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "limit": "subscriptions", "maximum": 2}


async def test_a_user_holds_a_limited_number_of_connections(
    api: Api, world: World, app: Starlette, address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = app.state.graphql
    settings = view.settings
    let_go: list[int] = []  # whose sockets the server has let go of
    close = view.sockets.close

    async def counted_close(user_id: int, key: str) -> None:
        await close(user_id, key)
        let_go.append(user_id)

    monkeypatch.setattr(view.sockets, "close", counted_close)
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
            assert closed.value.rcvd.code == 4403  # told apart from a bad token by its reason
            assert closed.value.rcvd.reason == "TOO_MANY_CONNECTIONS: at most 2 open at once."
            # another user is not affected
            async with GraphQLSocket.open(address, api.token_for(world.anna)) as other:
                assert (await other.receive())["type"] == "connection_ack"
        # once they are closed (the server notices shortly after), both places are free
        await until(lambda: let_go.count(world.max.id) == 2, what="both sockets let go of")
        async with (
            GraphQLSocket.open(address, token) as again,
            GraphQLSocket.open(address, token) as and_again,
        ):
            assert (await again.receive())["type"] == "connection_ack"
            assert (await and_again.receive())["type"] == "connection_ack"
    finally:
        view.settings = settings


async def test_every_process_counts_a_users_sockets_together(own_redis: RedisProcess) -> None:
    # given two server processes' registries on one Redis
    first = RedisSockets(own_redis.url, "limits")
    second = RedisSockets(own_redis.url, "limits")
    try:
        held = [await first.open(7, limit=3), await second.open(7, limit=3)]
        held.append(await first.open(7, limit=3))
        # then a fourth socket anywhere is refused, and another user is not affected
        assert await second.open(7, limit=3) is None
        assert await second.open(8, limit=3) is not None
        # when one closes, the place is free in the other process
        key = held[0]
        assert key is not None
        await first.close(7, key)
        assert await second.open(7, limit=3) is not None
    finally:
        await first.aclose()
        await second.aclose()


async def test_the_sockets_of_a_process_that_died_stop_counting(own_redis: RedisProcess) -> None:
    # given a process that counted two sockets and then stopped renewing them
    dead = RedisSockets(own_redis.url, "limits", ttl=0.5)
    alive = RedisSockets(own_redis.url, "limits", ttl=0.5)
    try:
        assert await dead.open(7, limit=2) is not None
        assert await alive.open(7, limit=2) is not None
        assert await alive.open(7, limit=2) is None
        # the living process keeps its own socket counted past the TTL
        for _ in range(4):
            await asyncio.sleep(0.2)
            await alive.renew()
        # then only the dead process's place is free again
        assert await alive.open(7, limit=2) is not None
        assert await alive.open(7, limit=2) is None
    finally:
        await dead.aclose()
        await alive.aclose()
