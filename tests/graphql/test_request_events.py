"""Request events: in the event log without a project, in notifications, and live over
``requestEvents``, resumable by cursor, to the requester, participants, the lead contact and
staff, never to other contacts, and INTERNAL ones to staff only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette

from actions import requests
from models import Event, EventKind, RequestStatus, Visibility
from realtime.bus import EventBus
from realtime.channels import customer_requests_channel, requests_channel
from realtime.stream import encode_cursor
from tests.conftest import Api
from tests.live import GraphQLSocket, serve, until_subscribed
from tests.world import World

EVENTS = """
subscription ($after: String) {
  requestEvents(after: $after) {
    __typename
    ... on RequestActivity { cursor actor { handle } request { number } }
    ... on RequestStatusChanged { fromStatus toStatus automatic }
    ... on RequestReplied { message { body visibility } }
  }
}
"""

NOTIFICATIONS = """
{ notifications { edges { node { reason event { __typename
  ... on RequestReplied { request { number } message { body } } } } } } }
"""


@pytest.fixture
async def address(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as host_and_port:
        yield host_and_port


async def _next(sock: GraphQLSocket) -> dict[str, Any]:
    message = await sock.receive()
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message["payload"]
    return dict(message["payload"]["data"]["requestEvents"])


async def _cursor_now() -> str:
    latest = await Event.all().order_by("-id").first()
    return encode_cursor(latest.id if latest else 0)


async def test_request_events_are_in_the_log_without_a_project(world: World) -> None:
    [submitted] = await Event.filter(request_id=world.acme_request.id)
    assert submitted.kind is EventKind.REQUEST_SUBMITTED
    assert submitted.project_id is None
    assert submitted.customer_id == world.acme.id


async def test_replies_reach_the_inbox_internal_notes_only_staffs(
    api: Api, world: World, bus: EventBus
) -> None:
    request_id = world.acme_request.id
    await requests.reply_to_request(
        world.sam, bus, request_id=request_id, body="Not this", visibility=Visibility.INTERNAL
    )
    await requests.reply_to_request(world.sam, bus, request_id=request_id, body="Fixed")
    inbox = await api(NOTIFICATIONS, as_user=world.max)
    events = [edge["node"] for edge in inbox.data["notifications"]["edges"]]
    replies = [n for n in events if n["event"]["__typename"] == "RequestReplied"]
    assert replies == [
        {
            "reason": "PARTICIPATING",
            "event": {
                "__typename": "RequestReplied",
                "request": {"number": "ACME-1"},
                "message": {"body": "Fixed"},
            },
        }
    ]


async def test_request_events_resume_by_cursor_then_go_on_live(
    api: Api, world: World, bus: EventBus, address: str
) -> None:
    request_id = world.acme_request.id
    # given max saw the request being worked on, then went offline
    cursor = await _cursor_now()
    await requests.change_request_status(
        world.sam, bus, request_id=request_id, status=RequestStatus.NEEDS_INFO
    )
    await requests.reply_to_request(
        world.sam, bus, request_id=request_id, body="Margin", visibility=Visibility.INTERNAL
    )
    await requests.reply_to_request(world.sam, bus, request_id=request_id, body="Which site?")
    async with GraphQLSocket.open(address, api.token_for(world.max)) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("1", EVENTS, {"after": cursor})
        replayed = [await _next(sock), await _next(sock)]
        await until_subscribed(bus, customer_requests_channel(world.acme.id))
        # when he answers, and someone acts on a request he may not see
        await requests.submit_request(
            world.mia,
            bus,
            type_id=world.support_type.id,
            title="Mia's own",
            answers={"severity": "low", "system": "Reporting", "description": "Charts are slow."},
        )
        await requests.reply_to_request(world.max, bus, request_id=request_id, body="Hamburg")
        live = [await _next(sock), await _next(sock)]
        with pytest.raises(TimeoutError):
            await sock.receive(within=0.5)
    # then he got what he missed (never the INTERNAL note), then his reply and the move
    # back to IN_PROGRESS it caused, and nothing of mia's request
    assert [e["__typename"] for e in replayed] == ["RequestStatusChanged", "RequestReplied"]
    assert replayed[1]["message"] == {"body": "Which site?", "visibility": "SHARED"}
    assert [e["__typename"] for e in live] == ["RequestReplied", "RequestStatusChanged"]
    assert (live[1]["toStatus"], live[1]["automatic"]) == ("IN_PROGRESS", True)
    assert {e["request"]["number"] for e in replayed + live} == {"ACME-1"}


async def test_staff_hear_every_customers_requests_live(
    api: Api, world: World, bus: EventBus, address: str
) -> None:
    async with GraphQLSocket.open(address, api.token_for(world.stan)) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("1", EVENTS, {"after": await _cursor_now()})
        await until_subscribed(bus, requests_channel())
        await requests.reply_to_request(
            world.olivia,
            bus,
            request_id=world.globex_request.id,
            body="Looking",
            visibility=Visibility.INTERNAL,
        )
        event = await _next(sock)
    assert event["request"] == {"number": "GLOBEX-1"}
    assert event["message"] == {"body": "Looking", "visibility": "INTERNAL"}
