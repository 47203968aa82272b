"""Quotes, orders and invoices in the web client's Documents view, as their readers notice
them, in a real Chromium against ``extranet serve`` with the demo data (tests/browser.py):

* an invoice the ERP pushes appears live in the lead contact's open Documents view, and
  the lead contact accepts a quote (after confirming it) and sees it accepted;
* a member sees the documents of their project, without amounts.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import expect

from tests.browser import (
    DESKTOP,
    Api,
    People,
    Server,
    browser,
    client_behaviour,
    people,
    web_build,
)

__all__ = ["browser", "people", "web_build"]  # fixtures this module's tests use

# the server's side of these is tested on both databases by the API tests
pytestmark = client_behaviour

ADMIN = "admin@provider.example"
ANNA = "anna@acme.example"
MAX = "max@acme.example"
CUSTOMERS = "{ customers(first: 20) { edges { node { id name } } } }"
UPSERT = """mutation ($input: UpsertBusinessDocumentInput!) {
  upsertBusinessDocument(input: $input) { created businessDocument { id } } }"""


@pytest.fixture(scope="module")
def server(shared_server: Server) -> Server:
    return shared_server  # shared with the other modules that change only what they make


@pytest.fixture(scope="module")
def api(server: Server) -> Api:
    return Api(server)


async def push(api: Api, kind: str, number: str, title: str) -> None:
    """The ERP's push of an Acme document (as an administrator, who may sync)."""
    customers = (await api(ADMIN, CUSTOMERS))["customers"]["edges"]
    acme = next(c["node"]["id"] for c in customers if c["node"]["name"].startswith("Acme"))
    today = datetime.now(UTC).date()
    values = {
        "source": "erp",
        "externalId": f"web-{number}",
        "customerId": acme,
        "kind": kind,
        "number": number,
        "title": title,
        "issueDate": today.isoformat(),
        "dueDate": (today + timedelta(days=30)).isoformat(),
        "netAmount": "1000.10",
        "grossAmount": "1190.12",
        "currency": "EUR",
    }
    assert (await api(ADMIN, UPSERT, input=values))["upsertBusinessDocument"]["created"]


async def test_a_pushed_invoice_appears_live_and_the_lead_contact_accepts_a_quote(
    people: People, api: Api
) -> None:
    suffix = secrets.token_hex(3).upper()
    quote, bill = f"Q-{suffix}", f"INV-{suffix}"
    await push(api, "QUOTE", quote, "Dock doors, phase 3")
    anna = await people.sign_in(ANNA, DESKTOP)
    await anna.get_by_role("link", name="Documents").click()
    await expect(anna.get_by_role("heading", name="Documents", level=1)).to_be_visible()
    row = anna.locator(f'[data-number="{quote}"]')
    await expect(row).to_contain_text("Awaiting decision")
    await expect(row.get_by_test_id("amounts")).to_have_text(
        "Net 1,000.10 EUR · gross 1,190.12 EUR"
    )

    # when the ERP pushes an invoice, it appears in her open view
    await push(api, "INVOICE", bill, "Dock doors, deposit")
    await expect(anna.locator(f'[data-number="{bill}"]')).to_contain_text("Open")

    # when she accepts the quote, confirming it
    await row.get_by_role("button", name=f"Accept {quote}").click()
    await row.get_by_label("Note (optional)").fill("Go ahead")
    await row.get_by_role("button", name=f"Accept quote {quote}").click()
    # then it reads accepted, by her, and offers no decision any more
    await expect(row).to_contain_text("Accepted")
    await expect(row).to_contain_text("decided by Anna")
    await expect(row.get_by_role("button", name=f"Decline {quote}")).to_have_count(0)


async def test_a_member_sees_the_documents_of_his_project_without_amounts(
    people: People, api: Api
) -> None:
    max_ = await people.sign_in(MAX, DESKTOP)
    await max_.get_by_role("link", name="Documents").click()
    # the demo's overdue invoice of the portal project
    row = max_.locator('[data-number="2026-0431"]')
    await expect(row).to_contain_text("Overdue")
    await expect(max_.get_by_test_id("amounts")).to_have_count(0)
    await expect(row.get_by_role("button")).to_have_count(0)
