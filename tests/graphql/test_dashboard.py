"""The dashboard: what waits for each person, counted, paged, and its count live."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from starlette.applications import Starlette

from actions import business_documents, microposts, requests
from actions._common import now
from actions.business_documents import DocumentFields
from models import (
    BusinessDocumentKind,
    DocumentType,
    DocumentVersion,
    LibraryDocument,
    Micropost,
    PageDraft,
    RequestStatus,
    ServiceRequest,
)
from realtime.bus import EventBus
from tests.conftest import Api
from tests.live import GraphQLSocket, serve
from tests.world import TICKET_ANSWERS, World

DASHBOARD = """
query ($first: Int!, $after: String) { dashboard {
  actionCount counts { kind count }
  items(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { reason since object { __typename
      ... on Request { title } ... on Micropost { body } ... on Page { title }
      ... on BusinessDocument { title } ... on LibraryDocument { title }
      ... on Notification { reason } } } } } } }
"""
COUNT = "subscription { actionCount }"


def _label(node: dict[str, Any]) -> tuple[str, str]:
    thing = node["object"]
    name = thing.get("title") or thing.get("body") or thing.get("reason")
    return node["reason"], f"{thing['__typename']}: {name}"


async def _items(api: Api, who: Any, first: int = 100) -> list[tuple[str, str]]:
    result = await api(DASHBOARD, {"first": first}, as_user=who)
    assert result.errors == [], result.errors
    return sorted(_label(e["node"]) for e in result.data["dashboard"]["items"]["edges"])


async def _submit(world: World, bus: EventBus, who: Any, type_id: int, title: str) -> Any:
    return await requests.submit_request(
        who, bus, type_id=type_id, title=title, answers=TICKET_ANSWERS
    )


async def _everything_waiting(world: World, bus: EventBus) -> None:
    """One thing of each kind, for the person it waits for."""
    long_ago = now() - timedelta(days=14)
    # requests: one sent back to max, one whose SLA breached, one nobody is assigned to
    printer = await _submit(world, bus, world.max, world.support_type.id, "Acme printer offline")
    await requests.change_request_status(
        world.sam, bus, request_id=printer.id, status=RequestStatus.NEEDS_INFO, reason="Which?"
    )
    late = await _submit(world, bus, world.max, world.support_type.id, "Acme scanner broken")
    await ServiceRequest.filter(id=late.id).update(created_at=long_ago)
    await _submit(world, bus, world.anna, world.acme_type.id, "Acme spare part order")
    # a customer's question on the portal, unanswered for two weeks, and anna's reply to it
    question = await microposts.post_micropost(
        world.max, bus, project_id=world.portal.id, body="Acme question on labels"
    )
    await Micropost.filter(id=question.id).update(created_at=long_ago)
    await microposts.post_micropost(
        world.anna, bus, project_id=world.portal.id, body="Acme me too", parent_id=question.id
    )
    # sam's edit of the concept page, kept after a conflict
    await PageDraft.create(page_id=world.portal_page.id, author_id=world.sam.id, base_revision=1)
    # a quote for Acme's decision
    await business_documents.create_business_document(
        world.sam,
        bus,
        customer_id=world.acme.id,
        fields=DocumentFields(
            kind=BusinessDocumentKind.QUOTE,
            number="Q-1",
            title="Acme portal phase 2",
            issue_date=date.today(),
            due_date=date.today() + timedelta(days=14),
            net_amount=Decimal("1000.00"),
            gross_amount=Decimal("1190.00"),
            currency="EUR",
        ),
    )
    # a valid document of Acme's library that its contacts must acknowledge
    rules = await LibraryDocument.create(
        customer_id=world.acme.id,
        title="Acme site rules",
        type=DocumentType.PROCEDURE,
        owner_id=world.sam.id,
        valid_from=long_ago,
        requires_acknowledgement=True,
    )
    await DocumentVersion.create(
        document_id=rules.id,
        number=1,
        name="rules.pdf",
        content_key="0" * 64,
        size=1,
        content_type="application/pdf",
        uploaded_by_id=world.sam.id,
    )


async def test_each_kind_waits_for_its_person_alone_with_counts_and_pages(
    api: Api, world: World, bus: EventBus
) -> None:
    # given one thing of each kind
    await _everything_waiting(world, bus)
    # when each person opens their dashboard
    seen = {name: await _items(api, user) for name, user in world.users().items()}
    # then each sees what waits for them, and nothing of another customer reaches a contact
    assert seen["sam"] == [
        ("ASSIGNED", "Request: Acme sensor drops readings"),
        ("KEPT_DRAFT", "Page: Acme booking concept"),
        ("SLA_BREACHED", "Request: Acme scanner broken"),
        ("UNANSWERED_POST", "Micropost: Acme question on labels"),
        ("UNASSIGNED", "Request: Acme spare part order"),
    ]
    assert seen["olivia"] == [("UNASSIGNED", "Request: Globex coupon scanner fails")]
    assert seen["max"] == [
        ("ACKNOWLEDGEMENT", "LibraryDocument: Acme site rules"),
        ("MENTION", "Notification: MENTIONED"),
        ("NEEDS_INFO", "Request: Acme printer offline"),
        ("REPLY", "Notification: REPLIED"),
    ]
    assert seen["anna"] == [
        ("ACKNOWLEDGEMENT", "LibraryDocument: Acme site rules"),
        ("QUOTE_DECISION", "BusinessDocument: Acme portal phase 2"),
    ]
    assert seen["mia"] == [("ACKNOWLEDGEMENT", "LibraryDocument: Acme site rules")]
    assert seen["stan"] == seen["admin"] == seen["gina"] == seen["gus"] == []
    # and the counts and pages add up to the same items, the longest waiting first
    whole = await api(DASHBOARD, {"first": 100}, as_user=world.sam)
    board = whole.data["dashboard"]
    assert board["actionCount"] == board["items"]["totalCount"] == 5
    assert sorted((c["kind"], c["count"]) for c in board["counts"]) == [
        ("ASSIGNED", 1),
        ("KEPT_DRAFT", 1),
        ("SLA_BREACHED", 1),
        ("UNANSWERED_POST", 1),
        ("UNASSIGNED", 1),
    ]
    paged: list[dict[str, Any]] = []
    after = None
    while True:
        page = await api(DASHBOARD, {"first": 2, "after": after}, as_user=world.sam)
        items = page.data["dashboard"]["items"]
        paged += [edge["node"] for edge in items["edges"]]
        if not items["pageInfo"]["hasNextPage"]:
            break
        after = items["pageInfo"]["endCursor"]
    assert paged == [edge["node"] for edge in board["items"]["edges"]]
    assert [n["since"] for n in paged] == sorted(n["since"] for n in paged)
    bad = await api(DASHBOARD, {"first": 2, "after": "nonsense"}, as_user=world.sam)
    assert bad.codes == ["BAD_USER_INPUT"]


async def test_an_anonymous_caller_gets_no_dashboard(api: Api, world: World) -> None:
    # when
    result = await api(DASHBOARD, {"first": 5})
    # then
    assert result.codes == ["UNAUTHENTICATED"]
    assert result.data is None or result.data.get("dashboard") is None


@pytest.fixture
async def address(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as host_and_port:
        yield host_and_port


async def test_the_action_count_follows_a_request_sent_back_and_answered(
    api: Api, world: World, bus: EventBus, address: str
) -> None:
    async with GraphQLSocket.open(address, api.token_for(world.max)) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("count", COUNT, {})
        counts = [(await sock.receive())["payload"]["data"]["actionCount"]]
        # when sam needs more information from max
        await requests.change_request_status(
            world.sam,
            bus,
            request_id=world.acme_request.id,
            status=RequestStatus.NEEDS_INFO,
            reason="Which sensor?",
        )
        counts.append((await sock.receive())["payload"]["data"]["actionCount"])
        # and max answers
        await requests.reply_to_request(
            world.max, bus, request_id=world.acme_request.id, body="Sensor 4"
        )
        counts.append((await sock.receive())["payload"]["data"]["actionCount"])
    # then (max was mentioned once when the world was made)
    assert counts == [1, 2, 1]
