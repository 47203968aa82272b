"""Presence costs linear work in its subscribers: an arrival is read from the store once
per page and process, whatever the number of windows open on the page, and one person
holds at most WINDOWS_PER_PAGE windows on a page. The work is counted, never timed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from starlette.applications import Starlette

from realtime import presence
from realtime.bus import EventBus
from tests.conftest import Api, gid
from tests.live import GraphQLSocket, serve
from tests.world import World

PRESENCE = """
subscription ($page: ID!) { pagePresence(pageId: $page) { people { user { handle } } } }
"""


@pytest.fixture
async def address(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as host_and_port:
        yield host_and_port


class Reads(list[int]):
    """Pages whose sessions were read, in order; ``next`` is set at each read."""

    def __init__(self) -> None:
        super().__init__()
        self.next = asyncio.Event()


@pytest.fixture
def reads(bus: EventBus, monkeypatch: pytest.MonkeyPatch) -> Reads:
    """Every read of a page's sessions from the presence store, by page."""
    seen = Reads()
    real = bus.presence.sessions

    async def counted(page_id: int) -> list[presence.Session]:
        seen.append(page_id)
        seen.next.set()
        return await real(page_id)

    monkeypatch.setattr(bus.presence, "sessions", counted)
    monkeypatch.setattr(presence, "HEARTBEAT", 60.0)  # no periodic look during the test
    return seen


def _handles(message: dict[str, Any]) -> list[str]:
    assert message["type"] == "next", message
    return [p["user"]["handle"] for p in message["payload"]["data"]["pagePresence"]["people"]]


async def _until_all_see(sock: GraphQLSocket, op_ids: set[str], handles: set[str]) -> None:
    """Read the socket until each of these operations showed exactly these people."""
    waiting = set(op_ids)
    deadline = time.monotonic() + 30
    while waiting:
        message = await sock.receive(within=30)
        if message["id"] in waiting and set(_handles(message)) == handles:
            waiting.discard(message["id"])
        assert time.monotonic() < deadline, (waiting, message)


@pytest.mark.parametrize("windows", [2, 16])
async def test_an_arrival_is_read_once_however_many_windows_are_open(
    api: Api, world: World, address: str, reads: Reads, windows: int
) -> None:
    # given windows on the page, held by up to four people (four windows each at most)
    page = {"page": gid(world.portal_page)}
    holders = [world.anna, world.sam, world.admin, world.stan][:windows]
    async with AsyncExitStack() as stack:
        sockets: dict[GraphQLSocket, set[str]] = {}
        for index, holder in enumerate(holders):
            sock = await stack.enter_async_context(
                GraphQLSocket.open(address, api.token_for(holder))
            )
            assert (await sock.receive())["type"] == "connection_ack"
            count = windows // len(holders) + (index < windows % len(holders))
            sockets[sock] = {f"w{n}" for n in range(count)}
            for op_id in sockets[sock]:
                await sock.subscribe(op_id, PRESENCE, page)
        present = {holder.handle for holder in holders}
        for sock, op_ids in sockets.items():
            await _until_all_see(sock, op_ids, present)
        # when max arrives
        before = len(reads)
        max_ = await stack.enter_async_context(
            GraphQLSocket.open(address, api.token_for(world.max))
        )
        assert (await max_.receive())["type"] == "connection_ack"
        await max_.subscribe("m", PRESENCE, page)
        # then every window sees him...
        for sock, op_ids in sockets.items():
            await _until_all_see(sock, op_ids, present | {world.max.handle})
        # ...after at most two reads of the page's sessions (his own look, and the change
        # announced to the others), not one per window
        assert 1 <= len(reads) - before <= 2


async def test_one_person_holds_at_most_five_windows_on_a_page(
    api: Api, world: World, address: str, reads: Reads
) -> None:
    # given one contact who opens four sockets of 50 presence subscriptions each
    page = {"page": gid(world.portal_page)}
    token = api.token_for(world.max)
    async with AsyncExitStack() as stack:
        sockets = []
        for _ in range(4):
            sock = await stack.enter_async_context(GraphQLSocket.open(address, token))
            assert (await sock.receive())["type"] == "connection_ack"
            sockets.append(sock)
        for sock in sockets:
            for n in range(50):
                await sock.subscribe(f"w{n}", PRESENCE, page)
        # then five windows are on the page, and every other one is refused
        answers: dict[str, int] = {}
        live: list[tuple[GraphQLSocket, str]] = []
        for sock in sockets:
            first: set[str] = set()
            while len(first) < 50:
                message = await sock.receive(within=20)
                if message["id"] in first:
                    continue  # a later presence update of a live window
                first.add(message["id"])
                payload = message["payload"]
                errors = payload if isinstance(payload, list) else payload.get("errors")
                if errors:
                    answers[errors[0]["extensions"]["code"]] = (
                        answers.get(errors[0]["extensions"]["code"], 0) + 1
                    )
                else:
                    answers["live"] = answers.get("live", 0) + 1
                    live.append((sock, message["id"]))
        assert answers == {"live": presence.WINDOWS_PER_PAGE, "RATE_LIMITED": 195}
        # when one window closes, another may open
        sock, op_id = live[0]
        reads.next.clear()
        await sock.send({"id": op_id, "type": "complete"})
        # (it no longer counts once the page's sessions were read again after it left)
        await asyncio.wait_for(reads.next.wait(), 20)
        await sock.subscribe("again", PRESENCE, page)
        while (message := await sock.receive(within=20))["id"] != "again":
            pass
        assert _handles(message) == ["max"]
        # and the reads of the page's sessions were far fewer than the windows asked for
        assert len(reads) < 200
