"""Business documents: the ERP pushes quotes, orders and invoices by external ID (the same
push again changes nothing), amounts stay exact, the customer's contacts see their
documents (a member those of their projects, without amounts), the lead contact accepts or
declines a quote, and an invoice past its due date is OVERDUE, on read and by the runner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from starlette.applications import Starlette

from actions import business_documents
from actions._common import now
from actions.business_documents import DocumentFields
from app.runner import JobRunner
from graphql_schema.relay import global_id
from models import (
    AuditEntry,
    BusinessDocument,
    BusinessDocumentKind,
    BusinessDocumentStatus,
    Event,
    EventKind,
    Notification,
)
from realtime.bus import EventBus
from realtime.channels import customer_documents_channel
from realtime.stream import encode_cursor
from tests.conftest import Api, Result, gid
from tests.graphql.test_access_tokens import service_token
from tests.graphql.test_tenant_isolation import row_counts
from tests.live import GraphQLSocket, serve, until_subscribed
from tests.world import World

UPSERT = """
mutation Push($input: UpsertBusinessDocumentInput!) {
  upsertBusinessDocument(input: $input) {
    created
    businessDocument { id kind number status netAmount grossAmount currency dueDate }
  }
}
"""
DOCUMENTS = """
query Documents($filter: BusinessDocumentFilter) {
  businessDocuments(filter: $filter) {
    edges { node { id number status netAmount grossAmount canDecide } }
  }
}
"""
DOCUMENT = """
query Document($id: ID!) {
  businessDocument(id: $id) { number status netAmount decidedBy { name } decisionNote }
}
"""
ACCEPT = """
mutation Accept($id: ID!, $note: String) { acceptQuote(id: $id, note: $note) { status } }
"""
DECLINE = """
mutation Decline($id: ID!, $note: String) { declineQuote(id: $id, note: $note) { status } }
"""
INBOX = """
{ notifications { edges { node { event { __typename
  ... on BusinessDocumentActivity { document { number } } } } } } }
"""
TODAY = now().date()


def invoice(**changes: Any) -> dict[str, Any]:
    """The ERP's push of an Acme invoice for the portal project."""
    return {
        "source": "erp",
        "externalId": "INV-2026-0042",
        "customerExternalId": None,
        "kind": "INVOICE",
        "number": "2026-0042",
        "title": "Portal relaunch, first instalment",
        "issueDate": (TODAY - timedelta(days=10)).isoformat(),
        "dueDate": (TODAY + timedelta(days=20)).isoformat(),
        "netAmount": "0.30",
        "grossAmount": "1234567890.10",
        "currency": "EUR",
        **changes,
    }


def _fields(kind: BusinessDocumentKind, number: str, **changes: Any) -> DocumentFields:
    values: dict[str, Any] = {
        "kind": kind,
        "number": number,
        "title": f"{kind.value.title()} {number}",
        "issue_date": TODAY - timedelta(days=30),
        "due_date": TODAY + timedelta(days=14),
        "net_amount": Decimal("1000.00"),
        "gross_amount": Decimal("1190.00"),
        "currency": "EUR",
        **changes,
    }
    return DocumentFields(**values)


async def _made(
    world: World, bus: EventBus, kind: BusinessDocumentKind, number: str, **changes: Any
) -> BusinessDocument:
    return await business_documents.create_business_document(
        world.sam,
        bus,
        customer_id=world.acme.id,
        fields=_fields(kind, number, project_id=world.portal.id, **changes),
    )


@pytest.fixture
async def erp(api: Api, world: World) -> str:
    """The ERP's service account token (provider-wide, on Acme's account team)."""
    token, _ = await service_token(api, world, ["business_documents:write"], role="ADMIN")
    return token


def _code(result: Result) -> str:
    assert result.errors, result.body
    return str(result.errors[0]["extensions"]["code"])


async def test_the_erp_pushes_an_invoice_and_the_same_push_again_changes_nothing(
    api: Api, world: World, erp: str
) -> None:
    values = invoice(customerId=gid(world.acme), projectId=gid(world.portal))
    first = await api(UPSERT, {"input": values}, token=erp)
    assert first.errors == [], first.errors
    pushed = first.data["upsertBusinessDocument"]
    assert pushed["created"] is True
    # amounts come back exactly as sent: decimals, never floating point
    assert pushed["businessDocument"]["netAmount"] == "0.30"
    assert pushed["businessDocument"]["grossAmount"] == "1234567890.10"
    assert pushed["businessDocument"]["status"] == "OPEN"
    before = await row_counts()
    again = await api(UPSERT, {"input": values}, token=erp)
    assert again.data["upsertBusinessDocument"]["created"] is False
    assert await row_counts() == before
    assert await Event.filter(kind=EventKind.BUSINESS_DOCUMENT_PUBLISHED).count() == 1
    # a change of status is one event
    paid = await api(UPSERT, {"input": {**values, "status": "PAID"}}, token=erp)
    assert paid.data["upsertBusinessDocument"]["businessDocument"]["status"] == "PAID"
    [changed] = await Event.filter(kind=EventKind.BUSINESS_DOCUMENT_STATUS_CHANGED)
    assert changed.payload == {
        "documentId": int(changed.payload["documentId"]),
        "from": "OPEN",
        "to": "PAID",
        "automatic": False,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"netAmount": 0.30000000000000004}, "netAmount"),
        ({"netAmount": "10.005"}, "netAmount"),
        ({"grossAmount": "-1.00"}, "grossAmount"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "eur"}, "currency"),
        ({"status": "PAID", "kind": "QUOTE"}, "status"),
        ({"dueDate": (TODAY - timedelta(days=11)).isoformat()}, "dueDate"),
    ],
)
async def test_bad_amounts_currencies_and_statuses_are_refused_and_nothing_is_written(
    api: Api, world: World, erp: str, changes: dict[str, Any], field: str
) -> None:
    values = invoice(customerId=gid(world.acme), **changes)
    result = await api(UPSERT, {"input": values}, token=erp)
    assert _code(result) == "BAD_USER_INPUT"
    assert result.errors[0]["extensions"].get("field") == field
    assert await BusinessDocument.all().count() == 0


async def test_a_number_is_unique_per_customer_and_kind(api: Api, world: World, erp: str) -> None:
    first = await api(UPSERT, {"input": invoice(customerId=gid(world.acme))}, token=erp)
    assert first.errors == []
    other = invoice(customerId=gid(world.acme), externalId="INV-OTHER")
    assert _code(await api(UPSERT, {"input": other}, token=erp)) == "CONFLICT"
    quote = {**other, "kind": "QUOTE"}
    assert (await api(UPSERT, {"input": quote}, token=erp)).errors == []


async def test_contacts_see_their_documents_a_member_without_amounts(
    api: Api, world: World, bus: EventBus
) -> None:
    await _made(world, bus, BusinessDocumentKind.INVOICE, "2026-0001")
    await business_documents.create_business_document(
        world.sam,
        bus,
        customer_id=world.acme.id,
        fields=_fields(BusinessDocumentKind.ORDER, "PO-9"),  # of no project
    )

    async def seen(user: Any) -> list[dict[str, Any]]:
        result = await api(DOCUMENTS, as_user=user)
        assert result.errors == [], result.errors
        return [edge["node"] for edge in result.data["businessDocuments"]["edges"]]

    lead = await seen(world.anna)
    assert {(d["number"], d["netAmount"]) for d in lead} == {
        ("2026-0001", "1000.00"),
        ("PO-9", "1000.00"),
    }
    # max is a member of the portal project: its invoice, without amounts, and no error
    assert [(d["number"], d["netAmount"], d["grossAmount"]) for d in await seen(world.max)] == [
        ("2026-0001", None, None)
    ]
    assert await seen(world.mia) == []
    assert await seen(world.gina) == []
    assert len(await seen(world.stan)) == 2


async def test_another_customers_document_answers_like_a_missing_one(
    api: Api, world: World, bus: EventBus
) -> None:
    document = await _made(world, bus, BusinessDocumentKind.QUOTE, "Q-1")
    foreign = await api(DOCUMENT, {"id": gid(document)}, as_user=world.gina)
    missing = await api(DOCUMENT, {"id": global_id("BusinessDocument", 999999)}, as_user=world.gina)
    assert _code(foreign) == "NOT_FOUND"
    assert foreign.body == missing.body
    accept = await api(ACCEPT, {"id": gid(document)}, as_user=world.gina)
    assert _code(accept) == "NOT_FOUND"
    assert (await BusinessDocument.get(id=document.id)).status is BusinessDocumentStatus.SENT


async def test_the_lead_contact_accepts_a_sent_quote_once(
    api: Api, world: World, bus: EventBus
) -> None:
    quote = await _made(world, bus, BusinessDocumentKind.QUOTE, "Q-7")
    # a member sees the quote but may not decide it
    assert _code(await api(ACCEPT, {"id": gid(quote)}, as_user=world.max)) == "FORBIDDEN"
    accepted = await api(ACCEPT, {"id": gid(quote), "note": "Go ahead"}, as_user=world.anna)
    assert accepted.errors == [], accepted.errors
    assert accepted.data["acceptQuote"]["status"] == "ACCEPTED"
    read = await api(DOCUMENT, {"id": gid(quote)}, as_user=world.sam)
    assert read.data["businessDocument"]["decidedBy"] == {"name": "Anna"}
    assert read.data["businessDocument"]["decisionNote"] == "Go ahead"
    assert await AuditEntry.exists(action="quote.accepted", actor_id=world.anna.id)
    [event] = await Event.filter(kind=EventKind.QUOTE_ACCEPTED)
    assert (event.actor_id, event.payload["note"]) == (world.anna.id, "Go ahead")
    # decided once: accepting or declining again is refused
    again = await api(DECLINE, {"id": gid(quote)}, as_user=world.anna)
    assert _code(again) == "BAD_USER_INPUT"
    assert again.errors[0]["extensions"]["status"] == "ACCEPTED"


async def test_an_expired_quote_or_an_invoice_is_not_decided(
    api: Api, world: World, bus: EventBus
) -> None:
    expired = await _made(
        world, bus, BusinessDocumentKind.QUOTE, "Q-OLD", due_date=TODAY - timedelta(days=1)
    )
    bill = await _made(world, bus, BusinessDocumentKind.INVOICE, "2026-0002")
    read = await api(DOCUMENTS, as_user=world.anna)
    states = {d["number"]: (d["status"], d["canDecide"]) for d in _nodes(read)}
    assert states["Q-OLD"] == ("EXPIRED", False)
    for document in (expired, bill):
        declined = await api(DECLINE, {"id": gid(document)}, as_user=world.anna)
        assert _code(declined) == "BAD_USER_INPUT"
    assert await Event.filter(kind=EventKind.QUOTE_DECLINED).count() == 0


def _nodes(result: Result) -> list[dict[str, Any]]:
    assert result.errors == [], result.errors
    return [edge["node"] for edge in result.data["businessDocuments"]["edges"]]


async def test_an_invoice_past_due_reads_overdue_and_the_runner_records_it(
    api: Api, world: World, bus: EventBus, app: Starlette
) -> None:
    jobs: JobRunner = app.state.jobs
    due = TODAY + timedelta(days=3)
    bill = await _made(world, bus, BusinessDocumentKind.INVOICE, "2026-0003", due_date=due)
    late = await _made(
        world, bus, BusinessDocumentKind.INVOICE, "2026-0004", due_date=TODAY - timedelta(days=2)
    )
    # on read: past its due date, an open invoice is OVERDUE before any job ran
    overdue = await api(DOCUMENTS, {"filter": {"status": ["OVERDUE"]}}, as_user=world.anna)
    assert [d["number"] for d in _nodes(overdue)] == ["2026-0004"]
    still_open = await api(DOCUMENTS, {"filter": {"status": ["OPEN"]}}, as_user=world.anna)
    assert [d["number"] for d in _nodes(still_open)] == ["2026-0003"]
    # by the runner: nothing on its due date, OVERDUE (with an event) the day after
    assert await jobs.run_due(now=datetime.combine(due, time(23, 59), tzinfo=UTC)) >= 1
    assert (await BusinessDocument.get(id=bill.id)).status is BusinessDocumentStatus.OPEN
    assert (await BusinessDocument.get(id=late.id)).status is BusinessDocumentStatus.OVERDUE
    await jobs.run_due(now=datetime.combine(due + timedelta(days=1), time(0, 1), tzinfo=UTC))
    assert (await BusinessDocument.get(id=bill.id)).status is BusinessDocumentStatus.OVERDUE
    changes = await Event.filter(kind=EventKind.BUSINESS_DOCUMENT_STATUS_CHANGED).order_by("id")
    assert [(e.payload["to"], e.payload["automatic"]) for e in changes] == [
        ("OVERDUE", True),
        ("OVERDUE", True),
    ]


async def test_a_paid_invoice_never_becomes_overdue(
    world: World, bus: EventBus, app: Starlette
) -> None:
    bill = await _made(world, bus, BusinessDocumentKind.INVOICE, "2026-0005")
    await business_documents.change_business_document_status(
        world.sam, bus, bill.id, BusinessDocumentStatus.PAID
    )
    assert bill.due_date is not None
    await app.state.jobs.run_due(
        now=datetime.combine(bill.due_date + timedelta(days=2), time(), tzinfo=UTC)
    )
    assert (await BusinessDocument.get(id=bill.id)).status is BusinessDocumentStatus.PAID


async def test_contacts_who_see_a_document_are_notified(
    api: Api, world: World, bus: EventBus
) -> None:
    await _made(world, bus, BusinessDocumentKind.QUOTE, "Q-9")
    told = {
        n.user_id
        for n in await Notification.filter(event__kind=EventKind.BUSINESS_DOCUMENT_PUBLISHED)
    }
    assert told == {world.anna.id, world.max.id}
    inbox = await api(INBOX, as_user=world.max)
    events = [edge["node"]["event"] for edge in inbox.data["notifications"]["edges"]]
    assert {"__typename": "BusinessDocumentPublished", "document": {"number": "Q-9"}} in events


async def test_tokens_need_the_business_documents_scopes(
    api: Api, world: World, bus: EventBus
) -> None:
    read_only, _ = await service_token(api, world, ["business_documents:read"], role="ADMIN")
    pushed = await api(UPSERT, {"input": invoice(customerId=gid(world.acme))}, token=read_only)
    assert _code(pushed) == "FORBIDDEN"
    assert pushed.errors[0]["extensions"]["missingScope"] == "business_documents:write"
    other, _ = await service_token(api, world, ["requests:read"], role="ADMIN")
    listed = await api(DOCUMENTS, token=other)
    assert listed.errors[0]["extensions"]["missingScope"] == "business_documents:read"
    assert (await api(DOCUMENTS, token=read_only)).errors == []


async def test_contacts_and_other_customers_service_accounts_may_not_push(
    api: Api, world: World
) -> None:
    assert (
        _code(await api(UPSERT, {"input": invoice(customerId=gid(world.acme))}, as_user=world.anna))
        == "FORBIDDEN"
    )
    # olivia's customer is Globex: she may not create documents for Acme
    made = await api(
        """mutation ($c: ID!, $i: BusinessDocumentFields!) {
             createBusinessDocument(customerId: $c, input: $i) { number } }""",
        {
            "c": gid(world.acme),
            "i": {
                k: v
                for k, v in invoice().items()
                if k not in ("source", "externalId", "customerExternalId")
            },
        },
        as_user=world.olivia,
    )
    assert _code(made) == "FORBIDDEN"
    assert await BusinessDocument.all().count() == 0


EVENTS = """
subscription ($after: String) {
  businessDocumentEvents(after: $after) {
    __typename
    ... on BusinessDocumentActivity { cursor document { number status netAmount } }
  }
}
"""


@pytest.fixture
async def address(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as host_and_port:
        yield host_and_port


async def test_document_events_resume_by_cursor_then_go_on_live(
    api: Api, world: World, bus: EventBus, address: str
) -> None:
    latest = await Event.all().order_by("-id").first()
    cursor = encode_cursor(latest.id if latest else 0)
    await _made(world, bus, BusinessDocumentKind.QUOTE, "Q-20")
    async with GraphQLSocket.open(address, api.token_for(world.max)) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("1", EVENTS, {"after": cursor})
        replayed = (await sock.receive())["payload"]["data"]["businessDocumentEvents"]
        await until_subscribed(bus, customer_documents_channel(world.acme.id))
        # an order of no project (max may not see it), then an invoice of his project
        await business_documents.create_business_document(
            world.sam,
            bus,
            customer_id=world.acme.id,
            fields=_fields(BusinessDocumentKind.ORDER, "PO-1"),
        )
        await _made(world, bus, BusinessDocumentKind.INVOICE, "2026-0020")
        live = (await sock.receive())["payload"]["data"]["businessDocumentEvents"]
    assert replayed["__typename"] == "BusinessDocumentPublished"
    assert replayed["document"] == {"number": "Q-20", "status": "SENT", "netAmount": None}
    assert live["document"]["number"] == "2026-0020"


PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


async def test_the_erp_uploads_the_pdf_and_a_contact_downloads_it_by_their_own_link(
    api: Api, world: World, bus: EventBus, erp: str
) -> None:
    bill = await _made(world, bus, BusinessDocumentKind.INVOICE, "2026-0030")
    path = f"/business-documents/{gid(bill)}/pdf"
    refused = await api.client.post(
        f"{path}?name=x.pdf", content=b"plain text", headers={"Authorization": f"Bearer {erp}"}
    )
    assert refused.status_code == 400
    stored = await api.client.post(
        f"{path}?name=2026-0030.pdf", content=PDF, headers={"Authorization": f"Bearer {erp}"}
    )
    assert stored.status_code == 201, stored.text
    query = "query ($id: ID!) { businessDocument(id: $id) { pdfName pdfUrl } }"
    read = await api(query, {"id": gid(bill)}, as_user=world.max)
    assert read.data["businessDocument"]["pdfName"] == "2026-0030.pdf"
    url = read.data["businessDocument"]["pdfUrl"]
    downloaded = await api.client.get(url)
    assert downloaded.status_code == 200
    assert downloaded.content == PDF
    assert downloaded.headers["content-type"] == "application/pdf"
    # a contact's upload is refused; a link used for another document finds nothing
    anna = await api.client.post(
        path, content=PDF, headers={"Authorization": f"Bearer {api.token_for(world.anna)}"}
    )
    assert anna.status_code == 403
    other = await _made(world, bus, BusinessDocumentKind.INVOICE, "2026-0031")
    token = url.split("token=")[1]
    assert (
        await api.client.get(f"/business-documents/{gid(other)}/pdf?token={token}")
    ).status_code == 404
