"""A subscriber that is idle and in order is served by its channel's own task
(realtime/_fanout.py ``Direct``, realtime/stream.py ``deliver_directly``, app/sending.py),
and everything else keeps its order through the usual path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from starlette.applications import Starlette

from actions import microposts
from app.sending import run_now
from graphql_schema.sharing import Delivery
from models import Visibility
from realtime._fanout import LocalSubscriber
from realtime.bus import EventBus
from realtime.channels import project_channel
from tests.conftest import Api, gid
from tests.live import GraphQLSocket, serve, until_subscribed
from tests.world import World

TIMELINE = """
subscription ($project: ID!) {
  projectTimeline(projectId: $project) {
    __typename ... on MicropostPosted { micropost { body } }
  }
}
"""


async def test_a_waiting_reader_lets_its_taker_have_messages_until_one_is_declined() -> None:
    # given a reader waiting with a taker that declines "b"
    subscriber = LocalSubscriber(10)
    taken: list[str] = []

    def take(message: str) -> bool:
        if message == "b":
            return False
        taken.append(message)
        return True

    reading = asyncio.ensure_future(subscriber.get(take))
    await asyncio.sleep(0)
    # when three messages come
    for message in ("a", "b", "c"):
        subscriber.offer(message)
    # then the taker had the first, and the reader gets the declined one and what followed
    assert taken == ["a"]
    assert await asyncio.wait_for(reading, 2) == "b"
    assert await asyncio.wait_for(subscriber.get(take), 2) == "c"
    assert taken == ["a"]


async def test_a_taker_that_fails_leaves_the_message_to_the_reader() -> None:
    subscriber = LocalSubscriber(10)

    def take(message: str) -> bool:
        raise RuntimeError("broken taker")

    reading = asyncio.ensure_future(subscriber.get(take))
    await asyncio.sleep(0)
    subscriber.offer("a")
    assert await asyncio.wait_for(reading, 2) == "a"


async def test_no_taker_without_a_waiting_reader() -> None:
    subscriber = LocalSubscriber(10)
    subscriber.offer("a")  # nobody waits: queued
    assert await asyncio.wait_for(subscriber.get(lambda _m: True), 2) == "a"


async def test_run_now_finishes_here_or_hands_the_rest_to_a_task() -> None:
    done: list[str] = []

    async def at_once() -> None:
        done.append("at once")

    gate = asyncio.Event()

    async def waits() -> None:
        done.append("started")
        await gate.wait()
        done.append("finished")

    assert run_now(at_once()) is None
    assert done == ["at once"]
    rest = run_now(waits())
    assert rest is not None
    assert done == ["at once", "started"]
    gate.set()
    await asyncio.wait_for(rest, 2)
    assert done == ["at once", "started", "finished"]


async def test_run_now_raises_what_fails_before_waiting() -> None:
    async def fails() -> None:
        raise OSError("gone")

    with pytest.raises(OSError, match="gone"):
        run_now(fails())


@pytest.fixture
async def address(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as host_and_port:
        yield host_and_port


async def test_live_events_reach_idle_subscribers_without_waking_them(
    api: Api, world: World, bus: EventBus, address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a member and a staff member subscribed, and the usual path counted
    woken: list[int] = []
    usual = Delivery.send

    async def counted(self: Delivery, *args: object, **kwargs: object) -> None:
        woken.append(1)
        await usual(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Delivery, "send", counted)
    async with AsyncExitStack() as stack:
        sockets = []
        for reader in (world.max, world.sam):
            sock = await stack.enter_async_context(
                GraphQLSocket.open(address, api.token_for(reader))
            )
            assert (await sock.receive())["type"] == "connection_ack"
            await sock.subscribe("s", TIMELINE, {"project": gid(world.portal)})
            sockets.append(sock)
        await until_subscribed(bus, project_channel(world.portal.id), 2)
        # (a first post through whichever path: once it is received, both wait again)
        await microposts.post_micropost(world.sam, bus, project_id=world.portal.id, body="0")
        for sock in sockets:
            assert (await sock.receive())["type"] == "next"
        woken.clear()
        # when a shared post, an internal note and another shared post are made
        for body, visibility in (
            ("one", Visibility.SHARED),
            ("note", Visibility.INTERNAL),
            ("two", Visibility.SHARED),
        ):
            await microposts.post_micropost(
                world.sam, bus, project_id=world.portal.id, body=body, visibility=visibility
            )
        # then each got what it may see, in order, and nobody's generator was woken
        bodies = []
        for sock, count in zip(sockets, (2, 3), strict=True):
            got = []
            for _ in range(count):
                message = await sock.receive()
                assert message["type"] == "next", message
                got.append(message["payload"]["data"]["projectTimeline"]["micropost"]["body"])
            bodies.append(got)
    assert bodies == [["one", "two"], ["one", "note", "two"]]
    assert woken == []
