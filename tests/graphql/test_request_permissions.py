"""Who sees and does what with requests: the requester, participants, the lead contact,
other contacts, staff and another customer; INTERNAL notes reach staff only."""

from __future__ import annotations

import pytest

from actions import requests
from models import Notification, NotificationReason, User, Visibility
from realtime.bus import EventBus
from tests.conftest import Api, gid
from tests.world import World

REQUEST = """
query ($id: ID!) {
  request(id: $id) { number title participants { handle } messages { body visibility } }
}
"""

NODE = "query ($id: ID!) { node(id: $id) { id ... on Request { number } } }"

REQUESTS = """
query ($filter: RequestFilter) {
  requests(filter: $filter) { totalCount edges { node { number } } }
}
"""

ADD_PARTICIPANT = """
mutation ($input: AddRequestParticipantInput!) {
  addRequestParticipant(input: $input) { request { participants { handle } } }
}
"""

ASSIGN = """
mutation ($input: AssignRequestInput!) {
  assignRequest(input: $input) { request { assignee { handle } } }
}
"""

REQUEST_TYPES = "{ requestTypes { name } }"


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [
        ("max", True),  # its requester
        ("anna", True),  # Acme's lead contact
        ("sam", True),  # staff
        ("stan", True),  # staff on no account team still read everything
        ("mia", False),  # an Acme contact who neither requested nor participates
        ("gina", False),  # another customer's lead contact
        ("gus", False),
    ],
)
async def test_who_sees_a_request(api: Api, world: World, viewer: str, sees: bool) -> None:
    user = world.users()[viewer]
    request_id = gid(world.acme_request)
    found = await api(REQUEST, {"id": request_id}, as_user=user)
    node = await api(NODE, {"id": request_id}, as_user=user)
    listed = await api(REQUESTS, {}, as_user=user)
    numbers = [edge["node"]["number"] for edge in listed.data["requests"]["edges"]]
    if sees:
        assert found.data["request"]["number"] == "ACME-1"
        assert node.data["node"]["number"] == "ACME-1"
        assert "ACME-1" in numbers
    else:
        assert found.data == {"request": None}
        assert found.codes == ["NOT_FOUND"]
        assert node.codes == ["NOT_FOUND"]
        assert "ACME-1" not in numbers


async def test_another_customers_request_answers_like_a_missing_one(api: Api, world: World) -> None:
    foreign = await api(REQUEST, {"id": gid(world.acme_request)}, as_user=world.gina)
    missing = await api(REQUEST, {"id": "UmVxdWVzdDo5OTk5OTk="}, as_user=world.gina)
    assert [e["message"] for e in foreign.errors] == [e["message"] for e in missing.errors]
    assert "acme" not in str(foreign.body).lower()
    filtered = await api(REQUESTS, {"filter": {"customerId": gid(world.acme)}}, as_user=world.gina)
    assert filtered.codes == ["NOT_FOUND"]


async def test_a_participant_sees_and_follows_the_request(
    api: Api, world: World, bus: EventBus
) -> None:
    request_id = gid(world.acme_request)
    # mia may not add herself: she cannot see it
    refused = await api(
        ADD_PARTICIPANT,
        {"input": {"requestId": request_id, "userId": gid(world.mia)}},
        as_user=world.mia,
    )
    assert refused.codes == ["NOT_FOUND"]
    # the requester adds her; another customer's contact is not found
    added = await api(
        ADD_PARTICIPANT,
        {"input": {"requestId": request_id, "userId": gid(world.mia)}},
        as_user=world.max,
    )
    assert added.data["addRequestParticipant"]["request"]["participants"] == [{"handle": "mia"}]
    foreign = await api(
        ADD_PARTICIPANT,
        {"input": {"requestId": request_id, "userId": gid(world.gus)}},
        as_user=world.max,
    )
    assert foreign.codes == ["NOT_FOUND"]
    # now mia sees it, and hears of a staff reply as someone participating
    seen = await api(REQUEST, {"id": request_id}, as_user=world.mia)
    assert seen.data["request"]["number"] == "ACME-1"
    await requests.reply_to_request(world.sam, bus, request_id=world.acme_request.id, body="On it")
    notified = await Notification.filter(user_id=world.mia.id)
    assert NotificationReason.PARTICIPATING in [n.reason for n in notified]


async def test_internal_notes_never_reach_contacts(api: Api, world: World, bus: EventBus) -> None:
    request_id = world.acme_request.id
    await requests.reply_to_request(
        world.sam, bus, request_id=request_id, body="Secret margin", visibility=Visibility.INTERNAL
    )
    await requests.reply_to_request(world.sam, bus, request_id=request_id, body="Hello")
    for viewer in (world.max, world.anna):
        seen = await api(REQUEST, {"id": gid(world.acme_request)}, as_user=viewer)
        assert seen.data["request"]["messages"] == [{"body": "Hello", "visibility": "SHARED"}]
        notified = await Notification.filter(user_id=viewer.id).prefetch_related("event")
        assert all(n.event.visibility is Visibility.SHARED for n in notified)
    staff = await api(REQUEST, {"id": gid(world.acme_request)}, as_user=world.stan)
    assert [m["body"] for m in staff.data["request"]["messages"]] == ["Secret margin", "Hello"]


async def test_the_assignee_hears_of_a_customer_reply(world: World, bus: EventBus) -> None:
    await requests.reply_to_request(
        world.max, bus, request_id=world.acme_request.id, body="Any news?"
    )
    notified = await Notification.filter(user_id=world.sam.id)
    assert NotificationReason.REPLIED in [n.reason for n in notified]


async def test_only_staff_are_assigned_and_only_by_who_handles_the_request(
    api: Api, world: World
) -> None:
    request_id = gid(world.acme_request)
    contact = await api(
        ASSIGN,
        {"input": {"requestId": request_id, "assigneeId": gid(world.anna)}},
        as_user=world.sam,
    )
    assert contact.codes == ["BAD_USER_INPUT"]
    by_contact = await api(
        ASSIGN,
        {"input": {"requestId": request_id, "assigneeId": gid(world.sam)}},
        as_user=world.anna,
    )
    assert by_contact.codes == ["FORBIDDEN"]
    moved = await api(
        ASSIGN,
        {"input": {"requestId": request_id, "assigneeId": gid(world.olivia)}},
        as_user=world.sam,
    )
    assert moved.data["assignRequest"]["request"]["assignee"] == {"handle": "olivia"}


async def test_request_types_offered_to_the_viewers_customer(api: Api, world: World) -> None:
    acme = await api(REQUEST_TYPES, as_user=world.max)
    globex = await api(REQUEST_TYPES, as_user=world.gus)
    staff = await api(REQUEST_TYPES, as_user=world.sam)
    assert [t["name"] for t in acme.data["requestTypes"]] == ["Acme spare parts", "Support ticket"]
    assert [t["name"] for t in globex.data["requestTypes"]] == ["Globex coupons", "Support ticket"]
    assert len(staff.data["requestTypes"]) == 3


async def test_queues_for_staff_and_contacts(api: Api, world: World, bus: EventBus) -> None:
    mine = await api(REQUESTS, {"filter": {"needsMyAction": True}}, as_user=world.sam)
    assert [e["node"]["number"] for e in mine.data["requests"]["edges"]] == ["ACME-1"]
    unassigned = await api(REQUESTS, {"filter": {"unassigned": True}}, as_user=world.sam)
    assert [e["node"]["number"] for e in unassigned.data["requests"]["edges"]] == ["GLOBEX-1"]
    waiting = await api(REQUESTS, {"filter": {"needsMyAction": True}}, as_user=world.max)
    assert waiting.data["requests"]["totalCount"] == 0
    await requests.change_request_status(
        world.sam, bus, request_id=world.acme_request.id, status=requests.S.NEEDS_INFO
    )
    waiting = await api(REQUESTS, {"filter": {"needsMyAction": True}}, as_user=world.max)
    assert waiting.data["requests"]["totalCount"] == 1
    overdue = await api(REQUESTS, {"filter": {"overdue": True}}, as_user=world.sam)
    assert overdue.data["requests"]["totalCount"] == 0


SEARCH = """
query ($q: String!) {
  search(query: $q) { edges { node { node { __typename ... on Request { number } } } } }
}
"""


async def _found(api: Api, user: User, query: str) -> list[str]:
    result = await api(SEARCH, {"q": query}, as_user=user)
    assert result.errors == [], result.errors
    nodes = [edge["node"]["node"] for edge in result.data["search"]["edges"]]
    return sorted(node["number"] for node in nodes if node["__typename"] == "Request")


async def test_search_finds_requests_by_number_answers_and_conversation_within_the_rules(
    api: Api, world: World, bus: EventBus
) -> None:
    await requests.reply_to_request(
        world.sam,
        bus,
        request_id=world.acme_request.id,
        body="Zebra margin",
        visibility=Visibility.INTERNAL,
    )
    await requests.reply_to_request(world.sam, bus, request_id=world.acme_request.id, body="Quokka")
    # by an answer: each contact finds their own customer's request only
    assert await _found(api, world.max, "hour") == ["ACME-1"]
    assert await _found(api, world.gina, "hour") == ["GLOBEX-1"]
    assert await _found(api, world.mia, "hour") == []
    assert await _found(api, world.stan, "hour") == ["ACME-1", "GLOBEX-1"]
    # by its number and its conversation
    assert await _found(api, world.anna, "ACME-1") == ["ACME-1"]
    assert await _found(api, world.anna, "quokka") == ["ACME-1"]
    # INTERNAL notes: staff only
    assert await _found(api, world.anna, "zebra") == []
    assert await _found(api, world.sam, "zebra") == ["ACME-1"]
