"""Library events, live: staff see a contact's acknowledgement appear; a contact replays
the events of what they may read and never another customer's acknowledgement or a
draft's events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from models import Event
from realtime.bus import EventBus
from realtime.channels import library_channel
from realtime.stream import encode_cursor
from tests.conftest import Api, gid
from tests.graphql.test_library import ACKNOWLEDGE, VALIDITY, certificate, upload
from tests.live import GraphQLSocket, serve, until_subscribed
from tests.world import World

EVENTS = """
subscription ($customerId: ID, $after: String) {
  libraryEvents(customerId: $customerId, after: $after) {
    cursor kind occurredAt fromState toState
    actor { name } document { title state } version { number }
  }
}
"""


@pytest.fixture
async def address(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as host_and_port:
        yield host_and_port


async def _received(sock: GraphQLSocket) -> dict[str, Any]:
    message = await sock.receive()
    assert message["type"] == "next", message
    event: dict[str, Any] = message["payload"]["data"]["libraryEvents"]
    return event


async def test_staff_see_an_acknowledgement_live_and_contacts_replay_only_theirs(
    api: Api, world: World, bus: EventBus, address: str
) -> None:
    latest = await Event.all().order_by("-id").first()
    start = encode_cursor(latest.id if latest else 0)
    document_id = await certificate(api, world)  # a draft: its version's event is staff's
    await api(
        VALIDITY,
        {
            "id": document_id,
            "from": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "until": (datetime.now(UTC) + timedelta(days=60)).isoformat(),
        },
        as_user=world.sam,
    )
    async with GraphQLSocket.open(address, api.token_for(world.sam)) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("1", EVENTS, {"after": start})
        replayed = [await _received(sock) for _ in range(3)]
        assert [e["kind"] for e in replayed] == [
            "VERSION_ADDED",
            "DOCUMENT_PUBLISHED",
            "ACKNOWLEDGEMENT_REQUIRED",
        ]
        await until_subscribed(bus, library_channel())
        acknowledged = await api(ACKNOWLEDGE, {"id": document_id}, as_user=world.anna)
        assert acknowledged.errors == []
        live = await _received(sock)
    assert live["kind"] == "DOCUMENT_ACKNOWLEDGED"
    assert live["actor"] == {"name": "Anna"}
    assert live["document"] == {"title": "ISO 9001 certificate", "state": "VALID"}
    assert live["version"] == {"number": 1}
    # Gina (Globex) replays the publication, the request to acknowledge and her own
    # acknowledgement, then a new version live, never Anna's acknowledgement nor the draft's
    assert (await api(ACKNOWLEDGE, {"id": document_id}, as_user=world.gina)).errors == []
    async with GraphQLSocket.open(address, api.token_for(world.gina)) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("1", EVENTS, {"after": start})
        seen = [await _received(sock) for _ in range(3)]
        await until_subscribed(bus, library_channel())
        assert (await upload(api, world.sam, document_id, b"%PDF-1.4 v2")).status_code == 201
        new = [await _received(sock) for _ in range(2)]
    assert [(e["kind"], e["actor"]["name"]) for e in seen] == [
        ("DOCUMENT_PUBLISHED", "Sam"),
        ("ACKNOWLEDGEMENT_REQUIRED", "Sam"),
        ("DOCUMENT_ACKNOWLEDGED", "Gina"),
    ]
    assert [(e["kind"], e["version"]["number"]) for e in new] == [
        ("VERSION_ADDED", 2),
        ("ACKNOWLEDGEMENT_REQUIRED", 2),
    ]


async def test_a_contact_may_not_follow_another_customers_library(
    api: Api, world: World, address: str
) -> None:
    async with GraphQLSocket.open(address, api.token_for(world.gina)) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("1", EVENTS, {"customerId": gid(world.acme)})
        refused = await sock.receive()
    assert refused["type"] == "next"
    assert [e["extensions"]["code"] for e in refused["payload"]["errors"]] == ["NOT_FOUND"]
