"""Subscribers of one event share its execution, and nobody receives what was executed
for somebody who may see more (graphql_schema/sharing.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from graphql import parse
from starlette.applications import Starlette

from actions import microposts
from graphql_schema.schema import schema
from graphql_schema.sharing import SharedPayloads, selection_variables, selection_varies
from graphql_schema.varies import Varies
from models import Event, User
from realtime.bus import EventBus
from realtime.channels import project_channel
from realtime.stream import encode_cursor
from tests.conftest import Api, gid
from tests.live import GraphQLSocket, serve, until, until_subscribed
from tests.world import World

ROWS_ONLY = """
subscription ($project: ID!, $after: String) {
  projectTimeline(projectId: $project, after: $after) {
    __typename
    ... on TimelineEvent { cursor actor { name } }
    ... on MicropostPosted { micropost { id body topics { name } } }
  }
}
"""

BY_AUDIENCE = """
subscription ($project: ID!) {
  projectTimeline(projectId: $project) {
    ... on MicropostPosted { micropost { body replyCount } project { name budget } }
  }
}
"""

BY_VIEWER = """
subscription ($project: ID!) {
  projectTimeline(projectId: $project) {
    ... on MicropostPosted { micropost { body } actor { name email } }
  }
}
"""


@pytest.fixture
async def address(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as host_and_port:
        yield host_and_port


def _executions(app: Starlette) -> int:
    return int(app.state.graphql.shared_payloads.executions)


async def _cursor_now() -> str:
    latest = await Event.all().order_by("-id").first()
    return encode_cursor(latest.id if latest else 0)


async def _subscribe_all(
    stack: AsyncExitStack,
    address: str,
    api: Api,
    readers: list[User],
    query: str,
    variables: list[dict[str, Any]],
    bus: EventBus,
    channel: str,
) -> list[GraphQLSocket]:
    """Sockets of ``readers`` subscribed to ``channel`` once each subscription is live
    (and those of an earlier step have left)."""
    await until(lambda: bus.fanout.subscriber_count(f"{bus.namespace}.{channel}") == 0)
    sockets = []
    for reader, values in zip(readers, variables, strict=True):
        sock = await stack.enter_async_context(GraphQLSocket.open(address, api.token_for(reader)))
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("s", query, values)
        sockets.append(sock)
    await until_subscribed(bus, channel, len(readers))
    return sockets


async def _payloads(sockets: list[GraphQLSocket]) -> list[dict[str, Any]]:
    payloads = []
    for sock in sockets:
        message = await sock.receive()
        assert (message["type"], message["id"]) == ("next", "s"), message
        payloads.append(message["payload"])
    return payloads


async def test_a_selection_of_rows_is_executed_once_for_every_reader(
    app: Starlette, api: Api, world: World, bus: EventBus, address: str
) -> None:
    # given five readers of four kinds, resuming from different cursors
    readers = [world.max, world.anna, world.anna, world.sam, world.admin]
    now = await _cursor_now()
    variables: list[dict[str, Any]] = [
        {"project": gid(world.portal), "after": now} for _ in readers
    ]
    variables[1]["after"] = None
    async with AsyncExitStack() as stack:
        sockets = await _subscribe_all(
            stack,
            address,
            api,
            readers,
            ROWS_ONLY,
            variables,
            bus,
            project_channel(world.portal.id),
        )
        before = _executions(app)
        # when sam posts
        await microposts.post_micropost(world.sam, bus, project_id=world.portal.id, body="#go")
        payloads = await _payloads(sockets)
    # then one execution served everybody, and everybody got the same event
    assert _executions(app) - before == 1
    events = [p["data"]["projectTimeline"] for p in payloads]
    assert all(e == events[0] for e in events)
    assert events[0]["micropost"]["body"] == "#go"
    assert events[0]["micropost"]["topics"] == [{"name": "go"}]
    assert events[0]["actor"] == {"name": "Sam"}


async def test_audience_fields_are_executed_once_per_audience_and_never_cross(
    app: Starlette, api: Api, world: World, bus: EventBus, address: str
) -> None:
    # given the lead contact (who may see the budget), a member (who may not), and staff
    readers = [world.anna, world.max, world.sam, world.olivia, world.anna]
    variables = [{"project": gid(world.portal)} for _ in readers]
    async with AsyncExitStack() as stack:
        sockets = await _subscribe_all(
            stack,
            address,
            api,
            readers,
            BY_AUDIENCE,
            variables,
            bus,
            project_channel(world.portal.id),
        )
        before = _executions(app)
        await microposts.post_micropost(world.sam, bus, project_id=world.portal.id, body="Hi")
        anna, max_, sam, olivia, anna_again = await _payloads(sockets)
    # then three audiences, three executions
    assert _executions(app) - before == 3
    budget = {"name": "Acme warehouse portal", "budget": "120000.00"}
    assert anna["data"]["projectTimeline"]["project"] == budget
    assert anna_again == anna
    assert "errors" not in anna
    assert sam["data"]["projectTimeline"]["project"] == budget
    assert olivia == sam
    # and the member's own execution refused the budget: nothing of anna's reached max
    assert max_["data"]["projectTimeline"]["project"] == {
        "name": "Acme warehouse portal",
        "budget": None,
    }
    assert [e["extensions"]["code"] for e in max_["errors"]] == ["FORBIDDEN"]
    assert "120000" not in str(max_)


async def test_personal_fields_are_executed_per_viewer(
    app: Starlette, api: Api, world: World, bus: EventBus, address: str
) -> None:
    # given two staff members (one audience) selecting the poster's email, which only
    # staff, the person themself and their customer's lead contact may read
    readers = [world.max, world.anna, world.sam, world.olivia, world.max]
    variables = [{"project": gid(world.portal)} for _ in readers]
    async with AsyncExitStack() as stack:
        sockets = await _subscribe_all(
            stack,
            address,
            api,
            readers,
            BY_VIEWER,
            variables,
            bus,
            project_channel(world.portal.id),
        )
        before = _executions(app)
        # when max posts
        await microposts.post_micropost(world.max, bus, project_id=world.portal.id, body="Me")
        max_, anna, sam, olivia, max_again = await _payloads(sockets)
    # then one execution per person, not per connection
    assert _executions(app) - before == 4
    email = {"name": "Max", "email": "max@acme.example"}
    for payload in (max_, anna, sam, olivia, max_again):
        assert payload["data"]["projectTimeline"]["actor"] == email
    # and when sam posts, max gets no email (and nobody else's answer)
    async with AsyncExitStack() as stack:
        max_sock, sam_sock = await _subscribe_all(
            stack,
            address,
            api,
            [world.max, world.sam],
            BY_VIEWER,
            variables[:2],
            bus,
            project_channel(world.portal.id),
        )
        await microposts.post_micropost(world.sam, bus, project_id=world.portal.id, body="Us")
        max_sees, sam_sees = await _payloads([max_sock, sam_sock])
    assert max_sees["data"]["projectTimeline"]["actor"] == {"name": "Sam", "email": None}
    assert sam_sees["data"]["projectTimeline"]["actor"] == {
        "name": "Sam",
        "email": "sam@provider.example",
    }


def _varies(query: str) -> Varies:
    document = parse(query)
    operation = document.definitions[0]
    fragments = {d.name.value: d for d in document.definitions[1:]}  # type: ignore[attr-defined]
    return selection_varies(schema._schema, operation, fragments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        ("__typename ... on TimelineEvent { cursor occurredAt }", Varies.NOT),
        ("... on MicropostPosted { micropost { id body author { name handle } } }", Varies.NOT),
        ("... on PageUpdated { page { title project { status } } }", Varies.NOT),
        ("... on MicropostPosted { micropost { replyCount } }", Varies.BY_AUDIENCE),
        ("... on TimelineEvent { project { budget } }", Varies.BY_AUDIENCE),
        ("... on TimelineEvent { project { customer { internalNotes } } }", Varies.BY_AUDIENCE),
        ("... on TimelineEvent { project { viewerCanContribute } }", Varies.BY_VIEWER),
        ("... on TimelineEvent { actor { email } }", Varies.BY_VIEWER),
        ("... F", Varies.BY_VIEWER),
        ("... on PageCreated { ... F }", Varies.NOT),  # F applies to posts only
    ],
)
def test_how_much_a_selection_varies_by_reader(selection: str, expected: Varies) -> None:
    query = f"""
    subscription ($p: ID!) {{ projectTimeline(projectId: $p) {{ {selection} }} }}
    fragment F on MicropostPosted {{ micropost {{ body project {{ viewerWatchLevel }} }} }}
    """
    assert _varies(query) is expected


def test_only_the_variables_of_the_selection_tell_subscriptions_apart() -> None:
    document = parse(
        """
        subscription ($p: ID!, $after: String, $n: Int!, $m: Int!, $show: Boolean!) {
          projectTimeline(projectId: $p, after: $after) @include(if: $show) {
            ... on MicropostPosted { micropost { replies(first: $n) { edges { cursor } } } }
            ... F
          }
        }
        fragment F on TimelineEvent { project { members(first: $m) { edges { cursor } } } }
        """
    )
    operation, fragment = document.definitions
    used = selection_variables(operation, {"F": fragment})  # type: ignore[arg-type, dict-item]
    assert used == {"n", "m", "show"}


async def test_a_subscriber_that_leaves_does_not_cancel_the_others_execution() -> None:
    shared = SharedPayloads()
    started = asyncio.Event()
    release = asyncio.Event()

    async def execute() -> str:
        started.set()
        await release.wait()
        return '{"data":{}}'

    first = asyncio.create_task(shared.payload("key", execute))
    await started.wait()
    second = asyncio.create_task(shared.payload("key", execute))
    await asyncio.sleep(0)
    first.cancel()  # the subscriber whose task started the execution disconnects
    release.set()
    assert await second == '{"data":{}}'
    assert shared.executions == 1
    assert shared.ready("key") == '{"data":{}}'
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_a_failed_execution_fails_every_waiting_subscriber() -> None:
    shared = SharedPayloads()

    async def execute() -> str:
        await asyncio.sleep(0)
        raise RuntimeError("the database went away")

    results = await asyncio.gather(
        shared.payload("key", execute), shared.payload("key", execute), return_exceptions=True
    )
    assert [str(r) for r in results] == ["the database went away"] * 2
    assert shared.executions == 1
    assert shared.ready("key") is None

    # a later subscriber tries again
    async def recovered() -> str:
        return '{"data":{}}'

    assert await shared.payload("key", recovered) == '{"data":{}}'
    assert shared.executions == 2
