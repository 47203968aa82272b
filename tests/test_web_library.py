"""The document library in the web client, as its readers notice it, in a real Chromium
against ``extranet serve`` with the demo data (tests/browser.py):

* a contact sees the valid documents of their customer and the shared library, not a
  draft, not another customer's, and an expired one only as expired; they acknowledge the
  current version, and a new version, arriving while the document is open, asks again;
* staff create a document, upload its first version, publish it and ask for
  acknowledgement, and see a contact's acknowledgement appear on the open page live.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

import httpx
import pytest
from playwright.async_api import FilePayload, Locator, Page, expect

from tests.browser import (
    DESKTOP,
    PHONE,
    Api,
    People,
    Server,
    browser,
    client_behaviour,
    people,
    screenshot,
    web_build,
)

__all__ = ["browser", "people", "web_build"]  # fixtures this module's tests use

# the server's side of these is tested on both databases by the API tests
pytestmark = client_behaviour

SAM = "sam@provider.example"
ADMIN = "admin@provider.example"
ANNA = "anna@acme.example"
CUSTOMERS = "{ customers(first: 20) { edges { node { id name } } } }"
CREATE = """mutation ($input: CreateDocumentInput!) { createDocument(input: $input) { id } }"""
VALIDITY = """mutation ($id: ID!, $from: DateTime, $until: DateTime) {
  setDocumentValidity(id: $id, validFrom: $from, validUntil: $until) { state } }"""
CREATE_FOLDER = """mutation ($name: String!, $customer: ID) {
  createFolder(name: $name, customerId: $customer) { id } }"""
ACKNOWLEDGE = "mutation ($id: ID!) { acknowledgeDocument(id: $id) { id } }"


@pytest.fixture(scope="module")
def server(shared_server: Server) -> Server:
    return shared_server  # shared with the other modules that change only what they make


@pytest.fixture(scope="module")
def api(server: Server) -> Api:
    return Api(server)


async def customer_ids(api: Api) -> dict[str, str]:
    found = (await api(ADMIN, CUSTOMERS))["customers"]["edges"]
    return {edge["node"]["name"]: edge["node"]["id"] for edge in found}


async def upload(api: Api, email: str, document_id: str, name: str, content: bytes) -> int:
    """A new version of the document, uploaded over HTTP as `email`: its number."""
    await api(email, "{ me { id } }")  # signed in
    async with httpx.AsyncClient(base_url=api.server.url, timeout=10) as http:
        answer = await http.post(
            f"library/documents/{quote(document_id, safe='')}/versions",
            params={"name": name},
            content=content,
            headers={"Authorization": f"Bearer {api.tokens[email]}"},
        )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["data"]["version"]["number"])


async def published(
    api: Api,
    email: str,
    title: str,
    *,
    customer_id: str | None,
    days: tuple[int, int | None] = (-1, 365),
    acknowledge: bool = False,
    tags: tuple[str, ...] = (),
    folder_id: str | None = None,
) -> str:
    """A certificate with one version, valid from `days[0]` to `days[1]` days from now
    (None: open-ended). Its ID."""
    made = await api(
        email,
        CREATE,
        input={
            "title": title,
            "type": "CERTIFICATE",
            "customerId": customer_id,
            "folderId": folder_id,
            "requiresAcknowledgement": acknowledge,
            "tags": list(tags),
        },
    )
    document_id = str(made["createDocument"]["id"])
    await upload(api, email, document_id, f"{title}.pdf", b"%PDF-1.4 " + title.encode())
    now = datetime.now(UTC)
    start, end = days
    await api(
        email,
        VALIDITY,
        id=document_id,
        **{"from": (now + timedelta(days=start)).isoformat()},
        until=(now + timedelta(days=end)).isoformat() if end is not None else None,
    )
    return document_id


async def folder(api: Api, email: str, name: str, customer_id: str | None) -> str:
    made = await api(email, CREATE_FOLDER, name=name, customer=customer_id)
    return str(made["createFolder"]["id"])


async def draft(api: Api, email: str, title: str, customer_id: str) -> str:
    made = await api(
        email, CREATE, input={"title": title, "type": "MANUAL", "customerId": customer_id}
    )
    document_id = str(made["createDocument"]["id"])
    await upload(api, email, document_id, "draft.pdf", b"%PDF-1.4 draft")
    return document_id


def item(within: Page | Locator, title: str) -> Locator:
    return within.locator(f'[data-title="{title}"]')


async def go(page: Page, path: str) -> None:
    await page.evaluate("(hash) => { window.location.hash = hash; }", path)


async def test_a_contact_sees_only_valid_documents_of_their_customer_and_acknowledges_each_version(
    people: People, api: Api
) -> None:
    # given: Acme's certificate to acknowledge, a shared document, Acme's expired terms and
    # draft, and Globex's own manual
    suffix = secrets.token_hex(3)
    known = await customer_ids(api)
    acme, globex = known["Acme Logistics"], known["Globex Retail"]
    certificate = f"ISO 9001 certificate {suffix}"
    shared, expired = f"Terms of sale {suffix}", f"Old terms {suffix}"
    hidden_draft, foreign = f"Price list draft {suffix}", f"Globex manual {suffix}"
    certificate_id = await published(
        api, SAM, certificate, customer_id=acme, acknowledge=True, tags=("iso", suffix)
    )
    await published(api, SAM, shared, customer_id=None, days=(-1, None))
    await published(api, SAM, expired, customer_id=acme, days=(-30, -1))
    draft_id = await draft(api, SAM, hidden_draft, acme)
    foreign_id = await published(api, ADMIN, foreign, customer_id=globex)

    # when: Anna, Acme's lead contact, opens the library
    anna = await people.sign_in(ANNA, DESKTOP)
    await anna.get_by_role("link", name="Library").click()
    await expect(anna.get_by_role("heading", name="Library", level=1)).to_be_visible()

    # then: the valid documents, by library; no draft, nothing of Globex, nothing expired
    acme_library = anna.get_by_role("region", name="Library of Acme Logistics")
    await expect(item(acme_library, certificate)).to_contain_text("To acknowledge")
    await expect(item(acme_library, certificate).locator(".status")).to_have_text("Valid")
    await expect(item(anna.get_by_role("region", name="Shared library"), shared)).to_be_visible()
    for absent in (expired, hidden_draft, foreign):
        await expect(item(anna, absent)).to_have_count(0)
    # an expired document is there when she asks for it, as expired
    await anna.get_by_label("State").select_option("EXPIRED")
    await expect(item(anna, expired).locator(".status")).to_have_text("Expired")
    await expect(item(anna, certificate)).to_have_count(0)
    await anna.get_by_label("State").select_option("ALL")
    await expect(item(anna, certificate)).to_be_visible()
    await expect(item(anna, expired)).to_have_attribute("data-state", "EXPIRED")
    await expect(item(anna, hidden_draft)).to_have_count(0)
    # what she must acknowledge, of this test's documents (tagged with its suffix)
    await anna.get_by_label("State").select_option("")
    await anna.get_by_label("Tag", exact=True).fill(suffix)
    await anna.get_by_label("Tag", exact=True).press("Enter")
    await anna.get_by_label("Only those I must acknowledge").check()
    await expect(item(anna, certificate)).to_be_visible()
    await expect(item(anna, shared)).to_have_count(0)
    await expect(anna.get_by_test_id("library-count")).to_have_text("1 document")
    await screenshot(anna, "library-contact")
    # the draft's and Globex's addresses answer as missing ones
    for missing_id in (draft_id, foreign_id):
        await go(anna, f"#/library/{quote(missing_id, safe='')}")
        await expect(anna.get_by_role("heading", name="Document not found")).to_be_visible()

    # when: she opens the certificate and acknowledges its version
    await go(anna, "#/library")
    await item(anna, certificate).get_by_role("link", name=certificate, exact=True).click()
    await expect(anna.get_by_role("heading", name=certificate, level=1)).to_be_visible()
    await expect(anna.get_by_test_id("connection")).to_have_text("Live")
    panel = anna.get_by_test_id("acknowledgement")
    await panel.get_by_role("button", name="Acknowledge version 1").click()
    # then: it is recorded, and focus is on what says so
    await expect(panel.locator(".notice")).to_have_text("You acknowledged version 1.")
    await expect(panel.locator(".notice")).to_be_focused()

    # when: Sam uploads a new version while her page is open
    assert await upload(api, SAM, certificate_id, "iso9001-2026.pdf", b"%PDF-1.4 v2") == 2

    # then: it is the current version, the first one is history, and it asks her again
    await expect(anna.get_by_role("region", name="Current version")).to_contain_text(
        "iso9001-2026.pdf"
    )
    await expect(anna.get_by_role("region", name="Earlier versions")).to_contain_text("Version 1")
    await panel.get_by_role("button", name="Acknowledge version 2").click()
    await expect(panel.locator(".notice")).to_have_text("You acknowledged version 2.")
    await screenshot(anna, "library-document-contact")
    await go(anna, "#/library")
    # and nothing of hers is waiting any more (the filters are as she left them)
    await expect(anna.get_by_test_id("library-count")).to_have_text(
        "Nothing is waiting for your acknowledgement."
    )


async def test_staff_publish_a_document_and_see_an_acknowledgement_appear_live(
    people: People, api: Api
) -> None:
    # given: Sam, on Acme's library
    title = f"Safety procedure {secrets.token_hex(3)}"
    sam = await people.sign_in(SAM, DESKTOP)
    await go(sam, "#/library")
    await sam.get_by_label("Library", exact=True).select_option(label="Library of Acme Logistics")
    await expect(sam.get_by_role("region", name="Library of Acme Logistics")).to_be_visible()

    # when: he makes a folder, and in it a document that contacts must acknowledge
    folder_name = f"Safety {title[-6:]}"
    await sam.get_by_role("button", name="New folder").click()
    await sam.get_by_role("form", name="New folder").get_by_label("Name").fill(folder_name)
    await sam.get_by_role("button", name="Create folder").click()
    await expect(sam.get_by_role("heading", name=folder_name, level=3)).to_be_visible()
    await sam.get_by_role("button", name="New document").click()
    form = sam.get_by_role("form", name="New document")
    await form.get_by_label("Title").fill(title)
    await form.get_by_label("Type").select_option("PROCEDURE")
    await form.get_by_label("Folder").select_option(label=folder_name)
    await form.get_by_label("Contacts must acknowledge each version").check()
    await form.get_by_role("button", name="Create draft").click()

    # then: it is a draft, without a file
    await expect(sam.get_by_role("heading", name=title, level=1)).to_be_visible()
    await expect(sam.get_by_test_id("library-state")).to_have_text("Draft")

    # when: he uploads its first version and publishes it from today
    pdf: FilePayload = {"name": "safety.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}
    upload_form = sam.get_by_role("form", name="Upload a new version")
    await upload_form.get_by_label("File").set_input_files(files=[pdf])
    await upload_form.get_by_label("Version label").fill("rev. A")
    await upload_form.get_by_role("button", name="Upload version").click()
    await expect(sam.get_by_role("region", name="Current version")).to_contain_text("safety.pdf")
    validity = sam.get_by_role("form", name="Validity")
    await validity.get_by_label("Valid from").fill(datetime.now().date().isoformat())
    await validity.get_by_role("button", name="Publish").click()
    await expect(sam.get_by_test_id("library-state")).to_have_text("Valid")
    acknowledgements = sam.get_by_role("region", name="Acknowledgements")
    await expect(acknowledgements).to_contain_text("Nobody has acknowledged it yet.")
    await expect(sam.get_by_test_id("connection")).to_have_text("Live")

    # when: Anna acknowledges it (through the API)
    document_id = unquote(re.sub(r"^.*#/library/", "", sam.url))
    await api(ANNA, ACKNOWLEDGE, id=document_id)

    # then: Sam sees who acknowledged which version, without a reload
    row = acknowledgements.locator("tr", has_text="Anna Lead (Acme)")
    await expect(row.locator("td").nth(1)).to_have_text("1")
    await expect(acknowledgements.get_by_test_id("no-acknowledgements")).to_have_count(0)
    await sam.set_viewport_size(PHONE)
    await screenshot(sam, "library-document-staff-phone")
