"""Who is on a concept page: arrivals, editing, departures and drop-outs, for readers of
the page only; in memory here, in Redis across processes in tests/test_multiprocess.py."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette

from realtime import presence
from realtime.bus import EventBus
from realtime.presence import MemoryPresence, RedisPresence, Session
from tests.conftest import Api, gid
from tests.live import GraphQLSocket, serve, until
from tests.services import RedisProcess
from tests.world import World

PRESENCE = """
subscription ($page: ID!, $editing: Boolean! = false) {
  pagePresence(pageId: $page, editing: $editing) { people { user { handle } editing } }
}
"""

EDITING = """
mutation ($page: ID!, $editing: Boolean!) {
  setPageEditing(input: {pageId: $page, editing: $editing}) { editing }
}
"""


@pytest.fixture
async def address(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as host_and_port:
        yield host_and_port


async def _people(sock: GraphQLSocket, op_id: str = "p") -> list[tuple[str, bool]]:
    message = await sock.receive()
    assert (message["type"], message["id"]) == ("next", op_id), message
    people = message["payload"]["data"]["pagePresence"]["people"]
    return [(p["user"]["handle"], p["editing"]) for p in people]


async def _until(sock: GraphQLSocket, expected: list[tuple[str, bool]]) -> None:
    """Presence updates until the expected one (intermediate states may be skipped)."""
    deadline = time.monotonic() + 10
    while (seen := await _people(sock)) != expected:
        assert time.monotonic() < deadline, seen


async def test_people_on_a_page_see_each_other_arrive_edit_and_leave(
    api: Api, world: World, address: str
) -> None:
    page = {"page": gid(world.portal_page)}
    async with GraphQLSocket.open(address, api.token_for(world.anna)) as anna:
        assert (await anna.receive())["type"] == "connection_ack"
        await anna.subscribe("p", PRESENCE, page)
        assert await _people(anna) == [("anna", False)]
        async with GraphQLSocket.open(address, api.token_for(world.max)) as max_:
            assert (await max_.receive())["type"] == "connection_ack"
            await max_.subscribe("p", PRESENCE, page)
            # max arrives: both see both
            await _until(max_, [("anna", False), ("max", False)])
            await _until(anna, [("anna", False), ("max", False)])
            # max starts editing
            result = await api(EDITING, {**page, "editing": True}, as_user=world.max)
            assert result.data == {"setPageEditing": {"editing": True}}
            await _until(anna, [("anna", False), ("max", True)])
        # max closes the window: gone at once, not after the expiry
        started = time.monotonic()
        await _until(anna, [("anna", False)])
        assert time.monotonic() - started < presence.HEARTBEAT


async def test_only_readers_of_the_page_are_let_on_it(api: Api, world: World, address: str) -> None:
    cases = [
        (world.gina, world.portal_page),  # another customer's page
        (world.max, world.portal_internal_page),  # an internal page
        (world.mia, world.portal_page),  # a project she is not a member of
    ]
    for reader, page in cases:
        async with GraphQLSocket.open(address, api.token_for(reader)) as sock:
            assert (await sock.receive())["type"] == "connection_ack"
            await sock.subscribe("p", PRESENCE, {"page": gid(page)})
            message = await sock.receive()
            assert message["type"] in ("next", "error"), message
            payload = message["payload"]
            errors = payload if isinstance(payload, list) else payload["errors"]
            assert [e["extensions"]["code"] for e in errors] == ["NOT_FOUND"]
        result = await api(EDITING, {"page": gid(page), "editing": True}, as_user=reader)
        assert result.codes == ["NOT_FOUND"]


async def test_editing_without_being_on_the_page_is_bad_input(api: Api, world: World) -> None:
    result = await api(
        EDITING, {"page": gid(world.portal_page), "editing": True}, as_user=world.max
    )
    assert result.codes == ["BAD_USER_INPUT"]


@pytest.mark.slow  # waits for a presence to run out in real time
async def test_a_window_that_stops_renewing_drops_out(
    api: Api,
    world: World,
    bus: EventBus,
    address: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given short expiry times, and a session of max's whose process died (never renewed)
    monkeypatch.setattr(presence, "HEARTBEAT", 0.2)
    monkeypatch.setattr(bus.presence, "ttl", 0.6)
    ghost = Session("ghost", world.max.id, True, time.time())
    await bus.presence.renew(world.portal_page.id, ghost)
    async with GraphQLSocket.open(address, api.token_for(world.anna)) as anna:
        assert (await anna.receive())["type"] == "connection_ack"
        await anna.subscribe("p", PRESENCE, {"page": gid(world.portal_page)})
        assert await _people(anna) == [("max", True), ("anna", False)]
        # then it is gone after its expiry, while anna, who renews, stays
        started = time.monotonic()
        await _until(anna, [("anna", False)])
        assert time.monotonic() - started < 2
        with pytest.raises(TimeoutError):
            await anna.receive(within=1)


async def test_a_contact_removed_from_the_project_is_taken_off_the_page(
    api: Api, world: World, bus: EventBus, address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from actions import projects

    monkeypatch.setattr(presence, "HEARTBEAT", 0.2)
    async with GraphQLSocket.open(address, api.token_for(world.max)) as max_:
        assert (await max_.receive())["type"] == "connection_ack"
        await max_.subscribe("p", PRESENCE, {"page": gid(world.portal_page)})
        assert await _people(max_) == [("max", False)]
        await projects.remove_project_member(
            world.sam, bus, project_id=world.portal.id, user_id=world.max.id
        )
        message = await max_.receive(within=5)
    assert message["type"] == "next"
    assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == ["FORBIDDEN"]
    assert await bus.presence.sessions(world.portal_page.id) == []


async def _none_left(store: MemoryPresence | RedisPresence, page_id: int) -> bool:
    return await store.sessions(page_id) == []


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_stores_share_sessions_expire_them_and_mark_editing(
    kind: str, own_redis: RedisProcess
) -> None:
    # two stores: two server processes (for memory, one process)
    if kind == "redis":
        first: Any = RedisPresence(own_redis.url, "presence-test", ttl=0.5)
        second: Any = RedisPresence(own_redis.url, "presence-test", ttl=0.5)
    else:
        first = second = MemoryPresence(ttl=0.5)
    try:
        await first.renew(7, Session("a", 1, False, 1.0))
        await second.renew(7, Session("b", 2, False, 2.0))
        assert [s.session for s in await first.sessions(7)] == ["a", "b"]
        assert await second.set_editing(7, 1, True) is True
        assert await second.set_editing(7, 3, True) is False
        assert [s.editing for s in await first.sessions(7)] == [True, False]
        await first.renew(7, Session("a", 1, False, 1.0))  # renewing keeps the editing mark
        assert (await second.sessions(7))[0].editing is True
        await second.leave(7, "b")
        assert [s.session for s in await first.sessions(7)] == ["a"]
        await until(lambda: _none_left(second, 7), what="the sessions' TTL (0.5 s) ran out")
        assert await second.sessions(7) == []
        assert await first.sessions(8) == []
    finally:
        await first.close()
        if second is not first:
            await second.close()
