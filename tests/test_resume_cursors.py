"""A cursor a client received is always safe to resume from: two posts whose transactions
commit (or publish) in the opposite order to their event ids reach a client that drops
the connection between the two frames exactly once each, in id order, on projectTimeline
and myFeed, in one process and across processes sharing a Redis.

On PostgreSQL the lower id's transaction really stays open until the higher one has
committed and been published; SQLite lets one writer commit at a time, so there the lower
event is committed first and published only after the higher one.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from starlette.applications import Starlette
from tortoise import connections

from actions import microposts
from graphql_schema import subscriptions
from infra.settings import Settings
from models import Event, Micropost
from realtime import horizon as horizon_module
from realtime.bus import EventBus
from realtime.stream import decode_cursor, encode_cursor
from tests.conftest import TEST_SECRET, Api, gid
from tests.live import GraphQLSocket, serve, serve_process
from tests.services import RedisProcess
from tests.world import World

TIMELINE = """subscription ($project: ID!, $after: String) {
  projectTimeline(projectId: $project, after: $after) {
  ... on MicropostPosted { cursor micropost { body } } } }"""
FEED = """subscription ($after: String) {
  myFeed(after: $after) { ... on MicropostPosted { cursor micropost { body } } } }"""
CURSOR = "query ($id: ID!) { node(id: $id) { ... on Project { timelineCursor } } }"

Connect = Callable[[], AbstractAsyncContextManager[GraphQLSocket]]


def _on_postgres() -> bool:
    return str(connections.get("default").capabilities.dialect) == "postgres"


async def _post(bus: EventBus, world: World, body: str) -> Event:
    post = await microposts.post_micropost(world.sam, bus, project_id=world.portal.id, body=body)
    return await Event.get(micropost_id=post.id)


def _hold_next_call(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str
) -> tuple[asyncio.Event, asyncio.Event]:
    """Make the next call of ``owner.name`` set ``holding`` and wait for ``release``."""
    holding, release = asyncio.Event(), asyncio.Event()
    original = getattr(owner, name)

    async def held(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(owner, name, original)
        holding.set()
        await release.wait()
        return await original(*args, **kwargs)

    monkeypatch.setattr(owner, name, held)
    return holding, release


async def _two_posts(
    bus: EventBus, world: World, monkeypatch: pytest.MonkeyPatch, *, reversed_: bool
) -> tuple[Event, Event]:
    """Post "low" and then "high" (ids in that order). Reversed: "high" commits and is
    published while "low" is not yet (its transaction open on PostgreSQL, its publication
    held back on SQLite); "low" then goes through too."""
    if not reversed_:
        return await _post(bus, world, "@max low"), await _post(bus, world, "@max high")
    postgres = _on_postgres()
    if postgres:  # hold the transaction open once its event row is written
        holding, release = _hold_next_call(monkeypatch, microposts, "record_notifications")
    else:  # hold the publication back once it has committed
        holding, release = _hold_next_call(monkeypatch, bus, "publish")
    low_post = asyncio.create_task(_post(bus, world, "@max low"))
    await holding.wait()
    high = await _post(bus, world, "@max high")  # committed (and published) first
    if postgres:
        assert not await Micropost.exists(body="@max low")  # really still uncommitted
    release.set()
    low = await low_post
    assert low.id < high.id
    return low, high


async def _settled(bus: EventBus, event_id: int) -> None:
    """Wait until the bus knows every id up to ``event_id`` is resolved."""
    while True:
        changed = bus.horizon.changed()
        if bus.horizon.resolved >= event_id:
            return
        await asyncio.wait_for(changed.wait(), 20)


async def _frames(sock: GraphQLSocket, field: str, count: int) -> list[dict[str, Any]]:
    frames = []
    for _ in range(count):
        message = await sock.receive(within=20)
        assert message["type"] == "next", message
        frames.append(message["payload"]["data"][field])
    return frames


async def _delivered_once_each(
    first: Connect,
    second: Connect,
    writer: tuple[EventBus, World, pytest.MonkeyPatch],
    field: str,
    after: str,
    *,
    reversed_: bool,
    cut_after: int,
) -> list[str]:
    """Subscribe on ``first``, make the two posts, read ``cut_after`` frames and drop the
    connection; resume on ``second`` with the last cursor received and read until a
    third post. The bodies in the order the client saw them."""
    bus, world, monkeypatch = writer
    document, variables = _subscription(field, world, after)
    async with first() as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("1", document, variables)
        await _post(bus, world, "@max ready")  # once it arrives, the stream is live
        [ready] = await _frames(sock, field, 1)
        assert ready["micropost"]["body"] == "@max ready"
        await _two_posts(bus, world, monkeypatch, reversed_=reversed_)
        seen = await _frames(sock, field, cut_after)
    async with second() as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("1", document, {**variables, "after": seen[-1]["cursor"]})
        await _post(bus, world, "@max last")
        while seen[-1]["micropost"]["body"] != "@max last":
            seen += await _frames(sock, field, 1)
    cursors = [decode_cursor(frame["cursor"]) for frame in seen]
    assert cursors == sorted(cursors)
    return [frame["micropost"]["body"] for frame in seen]


async def _start(api: Api, world: World) -> str:
    """The project's timelineCursor, as a client fetches it before subscribing."""
    result = await api(CURSOR, {"id": gid(world.portal)}, as_user=world.max)
    return str(result.body["data"]["node"]["timelineCursor"])


def _subscription(field: str, world: World, after: str) -> tuple[str, dict[str, Any]]:
    if field == "projectTimeline":
        return TIMELINE, {"project": gid(world.portal), "after": after}
    return FEED, {"after": after}


ORDERS = [pytest.param(True, id="reversed-commits"), pytest.param(False, id="in-order")]
CUTS = [pytest.param(1, id="cut-between-frames"), pytest.param(2, id="cut-after-both")]


@pytest.mark.parametrize("reversed_", ORDERS)
@pytest.mark.parametrize("cut_after", CUTS)
@pytest.mark.parametrize("field", ["projectTimeline", "myFeed"])
async def test_each_event_is_delivered_once_across_a_reconnect(
    api: Api,
    app: Starlette,
    world: World,
    bus: EventBus,
    monkeypatch: pytest.MonkeyPatch,
    field: str,
    cut_after: int,
    reversed_: bool,
) -> None:
    token = api.token_for(world.max)
    after = await _start(api, world)
    async with serve(app) as address:

        def connect() -> AbstractAsyncContextManager[GraphQLSocket]:
            return GraphQLSocket.open(address, token)

        writer = (bus, world, monkeypatch)
        bodies = await _delivered_once_each(
            connect, connect, writer, field, after, reversed_=reversed_, cut_after=cut_after
        )
    assert bodies == ["@max low", "@max high", "@max last"]


async def test_the_timeline_cursor_stays_below_an_open_lower_transaction(
    api: Api, world: World, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not _on_postgres():
        pytest.skip("SQLite never has a lower id open while a higher one is committed")
    before = await _start(api, world)
    holding, release = _hold_next_call(monkeypatch, microposts, "record_notifications")
    low = asyncio.create_task(_post(bus, world, "low"))
    await holding.wait()
    high = await _post(bus, world, "high")
    # the higher event is committed, but a client starting from it would never get "low"
    assert decode_cursor(await _start(api, world)) < high.id
    assert await _start(api, world) == before
    release.set()
    await low
    await _settled(bus, high.id)
    assert await _start(api, world) == encode_cursor(high.id)


async def test_a_gap_nobody_announces_is_read_from_the_log(
    api: Api, app: Starlette, world: World, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a process that committed an event but could not publish it
    token = api.token_for(world.max)
    after = await _start(api, world)
    publish = bus.publish
    lost: list[Any] = []

    async def lose_first(events: Any) -> None:
        monkeypatch.setattr(bus, "publish", publish)
        lost.extend(events)

    monkeypatch.setattr(bus, "publish", lose_first)
    await _post(bus, world, "never announced")
    await _post(bus, world, "announced")
    assert lost
    # then a subscriber still gets both, in order, once
    async with serve(app) as address, GraphQLSocket.open(address, token) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("1", TIMELINE, {"project": gid(world.portal), "after": after})
        frames = await _frames(sock, "projectTimeline", 2)
        await _post(bus, world, "next")
        frames += await _frames(sock, "projectTimeline", 1)
    assert [f["micropost"]["body"] for f in frames] == ["never announced", "announced", "next"]


@pytest.fixture
async def shared_redis_bus(
    settings: Settings, own_redis: RedisProcess
) -> AsyncIterator[tuple[EventBus, dict[str, str]]]:
    """A bus of this process on a Redis of the test's own, and the environment of server
    processes sharing it and this test's database."""
    namespace = f"resume-{secrets.token_hex(4)}"
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "BROADCAST_URL": own_redis.url,
        "BROADCAST_NAMESPACE": namespace,
        "EXTRANET_SECRET_KEY": TEST_SECRET,
        "EXTRANET_ENV": "development",
    }
    bus = EventBus(own_redis.url, namespace=namespace)
    await bus.connect()
    try:
        yield bus, env
    finally:
        await bus.disconnect()


@asynccontextmanager
async def _two_servers(env: dict[str, str]) -> AsyncIterator[tuple[str, str]]:
    async with serve_process(env) as one, serve_process(env) as two:
        yield one, two


@pytest.mark.parametrize("reversed_", ORDERS)
@pytest.mark.parametrize("field", ["projectTimeline", "myFeed"])
async def test_a_cursor_from_one_process_resumes_on_another(
    api: Api,
    world: World,
    shared_redis_bus: tuple[EventBus, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    field: str,
    reversed_: bool,
) -> None:
    # given events written and published by this process, and a client that follows them
    # on one server process, drops the connection between the frames and resumes on another
    bus, env = shared_redis_bus
    token = api.token_for(world.max)
    after = await _start(api, world)
    async with _two_servers(env) as (one, two):

        def on(address: str) -> Callable[[], AbstractAsyncContextManager[GraphQLSocket]]:
            return lambda: GraphQLSocket.open(address, token)

        writer = (bus, world, monkeypatch)
        bodies = await _delivered_once_each(
            on(one), on(two), writer, field, after, reversed_=reversed_, cut_after=1
        )
    assert bodies == ["@max low", "@max high", "@max last"]


async def test_a_tick_lost_in_transit_is_settled_from_the_database(world: World) -> None:
    # given a bus that heard of event 2 but never of event 1
    bus = EventBus("memory://", namespace=f"test-{secrets.token_hex(4)}")
    await bus.connect()
    try:
        await bus.horizon.ready()
        start = bus.horizon.resolved
        unheard = await _post(_Silent(bus), world, "unheard")  # type: ignore[arg-type]
        heard = await _post(bus, world, "heard")
        await _settled(bus, heard.id)
        # then both are resolved, and the unheard one is to be read from the log
        gap = bus.horizon.gap("project.0", start, heard.id, ())
    finally:
        await bus.disconnect()
    assert unheard.id < heard.id
    assert gap is horizon_module.Gap.READ_LOG


class _Silent:
    """A bus that publishes nothing (a process that committed and then went away)."""

    def __init__(self, bus: EventBus) -> None:
        self.horizon = bus.horizon

    async def publish(self, events: Any) -> None:
        return None


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("field", ["projectTimeline", "myFeed"])
async def test_random_interleavings_deliver_each_event_once(
    api: Api,
    world: World,
    bus: EventBus,
    monkeypatch: pytest.MonkeyPatch,
    field: str,
    seed: int,
) -> None:
    # given twelve posts written at once, each transaction and each publication delayed at
    # random (so they commit and publish in shuffled orders), and a reader that drops its
    # stream after a random number of events and resumes from the last cursor it got
    chance = random.Random(seed)
    after = decode_cursor(await _start(api, world))
    notify = microposts.record_notifications  # type: ignore[attr-defined]
    publish = bus.publish

    async def slow_notifications(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(chance.uniform(0, 0.05))  # inside the transaction
        return await notify(*args, **kwargs)

    async def slow_publish(events: Any) -> None:
        await asyncio.sleep(chance.uniform(0, 0.05))  # after the commit
        await publish(events)

    monkeypatch.setattr(microposts, "record_notifications", slow_notifications)
    monkeypatch.setattr(bus, "publish", slow_publish)

    def open_stream(cursor: int) -> AsyncGenerator[Any, None]:
        if field == "projectTimeline":
            return subscriptions.project_timeline(world.max, bus, world.portal.id, cursor)
        return subscriptions.my_feed(world.max, bus, cursor)

    writing = asyncio.gather(*(_post(bus, world, f"@max post {n}") for n in range(12)))
    received: list[int] = []
    cursor = after
    while len(received) < 12:
        events = open_stream(cursor)
        try:
            for _ in range(chance.randint(1, 4)):
                event = await asyncio.wait_for(anext(events), 20)
                received.append(event.id)
                cursor = event.id  # what a client keeps: the last cursor it received
                if len(received) == 12:
                    break
        finally:
            await events.aclose()
    written = await writing
    # then it got every event once, in id order
    assert received == sorted(event.id for event in written)
