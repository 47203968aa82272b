"""The dashboard attacked from outside: a forged cursor is BAD_USER_INPUT whatever it holds
(never a failure); a quote past its due date no longer waits for a decision; another
customer's contacts and staff of no team see none of a customer's items."""

from __future__ import annotations

import base64
from datetime import timedelta
from decimal import Decimal

from actions import business_documents
from actions._common import now
from actions.business_documents import DocumentFields
from models import BusinessDocumentKind as K
from models import BusinessDocumentStatus as S
from realtime.bus import EventBus
from tests.conftest import Api
from tests.world import World

DASHBOARD = """
query ($after: String) {
  dashboard {
    actionCount counts { kind count }
    items(first: 10, after: $after) { edges { cursor node { reason
      object { __typename ... on BusinessDocument { number } ... on Request { number } } } } }
  }
}
"""


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


async def test_a_forged_cursor_is_bad_user_input_whatever_it_holds(api: Api, world: World) -> None:
    # given cursors a client could make up: a day without a time or zone, a time without a
    # zone, a number that is not one, too few parts
    forged = [
        "action|2026-11-02|ASSIGNED|ServiceRequest|1",
        "action|2026-11-02T10:00:00|ASSIGNED|ServiceRequest|1",
        "action|2026-11-02T10:00:00+00:00|ASSIGNED|ServiceRequest|one",
        "action|2026-11-02T10:00:00+00:00",
    ]
    # when
    answers = [await api(DASHBOARD, {"after": _cursor(c)}, as_user=world.sam) for c in forged]
    real = await api(DASHBOARD, as_user=world.sam)
    [edge] = real.data["dashboard"]["items"]["edges"]
    after_last = await api(DASHBOARD, {"after": edge["cursor"]}, as_user=world.sam)
    # then each is refused with a clear message and nothing else; a real one pages on
    for answer in answers:
        assert answer.codes == ["BAD_USER_INPUT"], answer.errors
        assert "cursor" in answer.errors[0]["message"]
        assert answer.body.get("data") is None
    assert after_last.errors == []
    assert after_last.data["dashboard"]["items"]["edges"] == []


async def test_a_quote_past_its_due_date_waits_for_no_decision(
    api: Api, world: World, bus: EventBus
) -> None:
    # given two quotes sent to Acme: one due next week, one due yesterday
    today = now().date()
    for number, due in (
        ("Q-OPEN", today + timedelta(days=7)),
        ("Q-LATE", today - timedelta(days=1)),
    ):
        await business_documents.create_business_document(
            world.sam,
            bus,
            customer_id=world.acme.id,
            fields=DocumentFields(
                kind=K.QUOTE,
                number=number,
                title=number,
                issue_date=today - timedelta(days=30),
                due_date=due,
                net_amount=Decimal("100.00"),
                gross_amount=Decimal("120.00"),
                currency="EUR",
                status=S.SENT,
                project_id=world.portal.id,
            ),
        )
    # when
    lead = await api(DASHBOARD, as_user=world.anna)
    other_lead = await api(DASHBOARD, as_user=world.gina)
    member = await api(DASHBOARD, as_user=world.max)
    # then Acme's lead contact is asked to decide on the quote that may still be decided
    assert lead.errors == []
    quotes = [
        e["node"]["object"]["number"]
        for e in lead.data["dashboard"]["items"]["edges"]
        if e["node"]["reason"] == "QUOTE_DECISION"
    ]
    assert quotes == ["Q-OPEN"]
    assert {"kind": "QUOTE_DECISION", "count": 1} in lead.data["dashboard"]["counts"]
    # and nobody else is: not Globex's lead contact, not a member of Acme
    for answer in (other_lead, member):
        reasons = [e["node"]["reason"] for e in answer.data["dashboard"]["items"]["edges"]]
        assert "QUOTE_DECISION" not in reasons
