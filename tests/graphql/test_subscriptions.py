"""Project timelines over websockets: replay, live delivery and rights at delivery time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import websockets
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from starlette.applications import Starlette

from actions import microposts, pages, projects
from actions.events import prune_events
from app.main import ExtranetGraphQL
from domain.tokens import issue_access_token
from infra.settings import Settings
from models import Event, ProjectStatus, Visibility
from realtime.bus import EventBus
from realtime.channels import project_channel
from realtime.stream import encode_cursor
from tests.conftest import TEST_SESSION, Api, gid
from tests.live import GraphQLSocket, serve, until_subscribed
from tests.world import World

TIMELINE = """
subscription Timeline($project: ID!, $after: String) {
  projectTimeline(projectId: $project, after: $after) {
    __typename
    ... on TimelineEvent { cursor actor { handle } project { name } }
    ... on MicropostPosted { micropost { body visibility } }
    ... on ProjectStatusChanged { fromStatus toStatus reason }
    ... on PageUpdated { revision summary page { title } }
  }
}
"""


@pytest.fixture
async def address(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as host_and_port:
        yield host_and_port


async def _ack(sock: GraphQLSocket) -> None:
    assert (await sock.receive())["type"] == "connection_ack"


async def _next(sock: GraphQLSocket, op_id: str = "1") -> dict[str, Any]:
    message = await sock.receive()
    assert message["type"] == "next", message
    assert message["id"] == op_id
    assert "errors" not in message["payload"], message["payload"]
    return dict(message["payload"]["data"]["projectTimeline"])


async def _cursor_now(project: Any) -> str:
    """What a client that just fetched the project would pass as `after`."""
    latest = await Event.filter(project_id=project.id).order_by("-id").first()
    return encode_cursor(latest.id if latest else 0)


async def _subscribed(
    sock: GraphQLSocket, bus: EventBus, project: Any, after: str | None = None
) -> None:
    after = after or await _cursor_now(project)
    await _ack(sock)
    await sock.subscribe("1", TIMELINE, {"project": gid(project), "after": after})
    await until_subscribed(bus, project_channel(project.id))  # before the test acts


async def test_a_member_sees_a_new_post_live(
    api: Api, world: World, bus: EventBus, address: str
) -> None:
    async with GraphQLSocket.open(address, api.token_for(world.max)) as sock:
        await _subscribed(sock, bus, world.portal)
        # when sam posts
        await microposts.post_micropost(world.sam, bus, project_id=world.portal.id, body="Live!")
        # then
        event = await _next(sock)
    assert event["__typename"] == "MicropostPosted"
    assert event["micropost"] == {"body": "Live!", "visibility": "SHARED"}
    assert event["actor"] == {"handle": "sam"}
    assert event["project"] == {"name": "Acme warehouse portal"}
    assert event["cursor"]


async def test_replay_from_a_cursor_then_live_in_order(
    api: Api, world: World, bus: EventBus, address: str
) -> None:
    # given a client that saw the kick-off post and then went offline
    async with GraphQLSocket.open(address, api.token_for(world.max)) as sock:
        await _subscribed(sock, bus, world.portal)
        await microposts.post_micropost(world.sam, bus, project_id=world.portal.id, body="one")
        cursor = (await _next(sock))["cursor"]
    await microposts.post_micropost(world.anna, bus, project_id=world.portal.id, body="two")
    await projects.change_project_status(
        world.sam, bus, project_id=world.portal.id, status=ProjectStatus.ACTIVE, reason="Go"
    )
    # when it comes back with its cursor
    async with GraphQLSocket.open(address, api.token_for(world.max)) as sock:
        await _subscribed(sock, bus, world.portal, after=cursor)
        replayed = [await _next(sock), await _next(sock)]
        await pages.update_page(
            world.max, bus, page_id=world.portal_page.id, base_revision=1, body="# Goals!"
        )
        live = await _next(sock)
        with pytest.raises(TimeoutError):
            await sock.receive(within=0.5)
    # then it gets what it missed, in order, then the live event, and nothing twice
    assert [e["__typename"] for e in replayed] == ["MicropostPosted", "ProjectStatusChanged"]
    assert replayed[0]["micropost"]["body"] == "two"
    assert (replayed[1]["fromStatus"], replayed[1]["toStatus"]) == ("PROPOSED", "ACTIVE")
    assert live["__typename"] == "PageUpdated"
    assert (live["revision"], live["page"]) == (2, {"title": "Acme booking concept"})


async def test_internal_notes_never_reach_a_contact(
    api: Api, world: World, bus: EventBus, address: str
) -> None:
    async with (
        GraphQLSocket.open(address, api.token_for(world.max)) as contact,
        GraphQLSocket.open(address, api.token_for(world.sam)) as staff,
    ):
        await _subscribed(contact, bus, world.portal)
        await _subscribed(staff, bus, world.portal)
        await microposts.post_micropost(
            world.sam, bus, project_id=world.portal.id, body="psst", visibility=Visibility.INTERNAL
        )
        await microposts.post_micropost(world.sam, bus, project_id=world.portal.id, body="hi all")
        contact_sees = await _next(contact)
        staff_sees = [await _next(staff), await _next(staff)]
    assert contact_sees["micropost"]["body"] == "hi all"
    assert [e["micropost"]["body"] for e in staff_sees] == ["psst", "hi all"]


async def test_a_removed_member_is_cut_off_with_forbidden(
    api: Api, world: World, bus: EventBus, address: str
) -> None:
    async with GraphQLSocket.open(address, api.token_for(world.max)) as sock:
        await _subscribed(sock, bus, world.portal)
        # when sam removes max from the project and posts
        await projects.remove_project_member(
            world.sam, bus, project_id=world.portal.id, user_id=world.max.id
        )
        await microposts.post_micropost(world.sam, bus, project_id=world.portal.id, body="later")
        message = await sock.receive()
    # then the subscription ends with FORBIDDEN and the post is not shown
    assert "later" not in str(message)
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"]


async def test_another_customers_project_is_not_found(api: Api, world: World, address: str) -> None:
    async with GraphQLSocket.open(address, api.token_for(world.gina)) as sock:
        await _ack(sock)
        await sock.subscribe("1", TIMELINE, {"project": gid(world.portal)})
        message = await sock.receive()
    assert "Acme" not in str(message)
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["NOT_FOUND"]


@pytest.mark.parametrize("token", [None, "not-a-token"])
async def test_a_socket_without_a_valid_token_is_closed_4403(
    world: World, address: str, token: str | None
) -> None:
    async with GraphQLSocket.open(address, token) as sock:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await sock.receive()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_subscribing_before_connection_init_is_closed_4401(
    world: World, address: str
) -> None:
    async with GraphQLSocket.open(address, None, init=False) as sock:
        await sock.subscribe("1", TIMELINE, {"project": gid(world.portal)})
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await sock.receive()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


@pytest.mark.slow  # waits for an access token to expire in real time
async def test_the_socket_closes_when_the_access_token_expires(
    api: Api, world: World, address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a token that expires in one second
    short = issue_access_token(
        replace(api.settings, access_token_ttl=1), world.max.id, TEST_SESSION
    )
    async with GraphQLSocket.open(address, short) as sock:
        await _ack(sock)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await sock.receive(within=6)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403  # graphql-ws clients retry it, with a fresh token
    assert closed.value.rcvd.reason.startswith("TOKEN_EXPIRED:")


async def test_the_gql_library_subscribes_and_receives(
    api: Api, world: World, bus: EventBus, address: str
) -> None:
    transport = WebsocketsTransport(
        url=f"ws://{address}/graphql",
        init_payload={"authorization": f"Bearer {api.token_for(world.anna)}"},
    )
    async with Client(transport=transport) as session:
        request = gql(TIMELINE)
        request.variable_values = {
            "project": gid(world.portal),
            "after": await _cursor_now(world.portal),
        }
        stream = session.subscribe(request)
        receive = asyncio.ensure_future(anext(stream))
        await until_subscribed(bus, project_channel(world.portal.id))
        await microposts.post_micropost(world.max, bus, project_id=world.portal.id, body="via gql")
        result = await asyncio.wait_for(receive, 10)
        await stream.aclose()
    assert result["projectTimeline"]["micropost"]["body"] == "via gql"


@pytest.mark.slow  # waits for the initialisation timeout in real time
async def test_a_socket_that_never_initialises_is_closed_4408(
    app: Starlette, settings: Settings, bus: EventBus
) -> None:
    # given a server that waits one second for connection_init
    view = ExtranetGraphQL(replace(settings, ws_init_timeout=1), bus)
    async with serve(view) as address, GraphQLSocket.open(address, None, init=False) as sock:
        # when the client says nothing, then it is closed with 4408 within the timeout
        started = time.monotonic()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await sock.receive(within=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4408
    assert time.monotonic() - started < 3


RESUME = """
subscription ($project: ID!, $after: String) {
  projectTimeline(projectId: $project, after: $after) {
    __typename
    ... on ResyncRequired { cursor }
    ... on MicropostPosted { cursor micropost { body } }
  }
}
"""


async def test_a_cursor_older_than_the_log_asks_the_client_to_resync(
    api: Api, world: World, bus: EventBus, address: str
) -> None:
    # given a client's cursor from before the log was pruned
    old = encode_cursor((await Event.filter(project_id=world.portal.id).order_by("id").first()).id)  # type: ignore[union-attr]
    pruned = await prune_events(timedelta(0), force=True)
    assert pruned.events > 0
    latest_kept = await Event.all().count()
    # when it resumes from that cursor
    async with GraphQLSocket.open(address, api.token_for(world.max)) as sock:
        await _ack(sock)
        await sock.subscribe("1", RESUME, {"project": gid(world.portal), "after": old})
        first = await _next(sock)
        await microposts.post_micropost(world.sam, bus, project_id=world.portal.id, body="new")
        then = await _next(sock)
    # then it is told to refetch, and the stream carries on live
    assert first["__typename"] == "ResyncRequired"
    assert latest_kept == pruned.kept_for_notifications  # what inboxes show
    assert then["__typename"] == "MicropostPosted"
    assert then["micropost"] == {"body": "new"}


async def test_a_cursor_within_the_log_replays_without_resync(
    api: Api, world: World, bus: EventBus, address: str
) -> None:
    assert (await prune_events(timedelta(0), force=True)).events > 0
    await microposts.post_micropost(world.sam, bus, project_id=world.portal.id, body="kept 1")
    cursor = await _cursor_now(world.portal)
    await microposts.post_micropost(world.sam, bus, project_id=world.portal.id, body="kept 2")
    async with GraphQLSocket.open(address, api.token_for(world.max)) as sock:
        await _ack(sock)
        await sock.subscribe("1", RESUME, {"project": gid(world.portal), "after": cursor})
        replayed = await _next(sock)
    assert replayed["micropost"] == {"body": "kept 2"}
