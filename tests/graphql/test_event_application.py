"""Zulip's test: a client that applies the events it received to the state it fetched
ends with exactly the state a fresh fetch returns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette

from actions import microposts, pages, projects
from models import ProjectStatus, Visibility
from realtime.bus import EventBus
from realtime.channels import project_channel
from tests.conftest import Api, gid
from tests.live import GraphQLSocket, serve, until_subscribed
from tests.world import World

STATE = """
query ($id: ID!) { project(id: $id) {
  status timelineCursor
  timeline(first: 100) { edges { node { id body } } }
  pages(first: 100) { edges { node { id title revision } } }
} }
"""
EVENTS = """
subscription ($id: ID!, $after: String) { projectTimeline(projectId: $id, after: $after) {
  __typename
  ... on MicropostPosted { micropost { id body parent { id } } }
  ... on MicropostEdited { micropost { id body parent { id } } }
  ... on ProjectStatusChanged { toStatus }
  ... on PageCreated { page { id title revision } }
  ... on PageUpdated { page { id title revision } }
} }
"""


def _state(data: dict[str, Any]) -> dict[str, Any]:
    project = data["project"]
    return {
        "status": project["status"],
        "timeline": [edge["node"] for edge in project["timeline"]["edges"]],
        "pages": {edge["node"]["id"]: edge["node"] for edge in project["pages"]["edges"]},
    }


def apply(state: dict[str, Any], event: dict[str, Any]) -> None:
    """What a client does with each event."""
    kind = event["__typename"]
    if kind == "MicropostPosted" and event["micropost"]["parent"] is None:
        post = event["micropost"]
        state["timeline"].insert(0, {"id": post["id"], "body": post["body"]})
    elif kind == "MicropostEdited":
        for post in state["timeline"]:
            if post["id"] == event["micropost"]["id"]:
                post["body"] = event["micropost"]["body"]
    elif kind == "ProjectStatusChanged":
        state["status"] = event["toStatus"]
    elif kind in ("PageCreated", "PageUpdated"):
        state["pages"][event["page"]["id"]] = event["page"]


@pytest.fixture
async def address(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as host_and_port:
        yield host_and_port


async def _changes(world: World, bus: EventBus) -> int:
    """A morning on the portal project; answers how many events a member may see."""
    portal = world.portal.id
    first = await microposts.post_micropost(world.sam, bus, project_id=portal, body="Morning")
    await microposts.post_micropost(
        world.max, bus, project_id=portal, body="Hi", parent_id=first.id
    )
    await microposts.edit_micropost(world.sam, bus, micropost_id=first.id, body="Good morning")
    await microposts.post_micropost(
        world.sam, bus, project_id=portal, body="staff only", visibility=Visibility.INTERNAL
    )
    await projects.change_project_status(
        world.sam, bus, project_id=portal, status=ProjectStatus.ACTIVE
    )
    page = await pages.create_page(world.anna, bus, project_id=portal, title="Rollout plan")
    await pages.update_page(world.max, bus, page_id=page.id, base_revision=1, title="Rollout")
    await pages.update_page(world.sam, bus, page_id=world.portal_page.id, base_revision=1, body="x")
    await microposts.edit_micropost(world.sam, bus, micropost_id=world.portal_post.id, body="Done")
    return 8


async def test_applying_received_events_equals_a_fresh_fetch(
    api: Api, world: World, bus: EventBus, address: str
) -> None:
    # given a member's client that fetched the project and then subscribed from that point
    fetched = (await api(STATE, {"id": gid(world.portal)}, as_user=world.max)).data
    state = _state(fetched)
    # and something happened between the fetch and the subscription
    await microposts.post_micropost(
        world.anna, bus, project_id=world.portal.id, body="while connecting"
    )
    async with GraphQLSocket.open(address, api.token_for(world.max)) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        variables = {"id": gid(world.portal), "after": fetched["project"]["timelineCursor"]}
        await sock.subscribe("1", EVENTS, variables)
        await until_subscribed(bus, project_channel(world.portal.id))
        # when the project changes
        expected = await _changes(world, bus)
        for _ in range(expected + 1):
            message = await sock.receive()
            assert message["type"] == "next", message
            apply(state, message["payload"]["data"]["projectTimeline"])
        with pytest.raises(TimeoutError):
            await sock.receive(within=0.5)
    # then the client's state is what a fresh fetch shows
    fresh = _state((await api(STATE, {"id": gid(world.portal)}, as_user=world.max)).data)
    assert state == fresh
    assert fresh["status"] == "ACTIVE"
    assert fresh["timeline"][-1]["body"] == "Done"
