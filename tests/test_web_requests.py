"""Requests in the web client, as their people notice them, in a real Chromium against
``extranet serve`` with the demo data (see tests/browser.py):

* a contact submits an incomplete support ticket: each problem the server names is shown
  next to its field and listed above the form, nothing is saved and nothing typed is lost;
  a field shown only for one answer appears when it is chosen; completed (with a file,
  uploaded as it is chosen), the request is submitted and shown;
* staff see a new request arrive live in their queue, ask its requester for information
  and a document, and the contact's answer moves it back to "in progress" live on the staff
  member's open page (two browser windows); the document the contact then sends from the
  checklist shows there as received.
"""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.async_api import FilePayload, Page, expect

from tests.browser import DESKTOP, Api, People, Server, browser, people, web_build

__all__ = ["browser", "people", "web_build"]  # fixtures this module's tests use

SAM = "sam@provider.example"
MAX = "max@acme.example"
MY_REQUESTS = """query ($first: Int) { requests(first: $first) {
  totalCount edges { node { id title status } } } }"""
TYPES = "{ requestTypes { id name } }"
SUBMIT = """mutation ($input: SubmitRequestInput!) {
  submitRequest(input: $input) { request { id number } } }"""
CHANGE_STATUS = """mutation ($input: ChangeRequestStatusInput!) {
  changeRequestStatus(input: $input) { request { status } } }"""


@pytest.fixture(scope="module")
def server(shared_server: Server) -> Server:
    return shared_server  # shared with the other modules that change only what they make


@pytest.fixture(scope="module")
def api(server: Server) -> Api:
    return Api(server)


async def request_types(api: Api) -> dict[str, str]:
    """The IDs of the request types offered to Max (the demo's), by name."""
    return {t["name"]: t["id"] for t in (await api(MAX, TYPES))["requestTypes"]}


async def titles(api: Api, email: str) -> list[str]:
    found = (await api(email, MY_REQUESTS, first=100))["requests"]["edges"]
    return [edge["node"]["title"] for edge in found]


async def go(page: Page, path: str) -> None:
    await page.evaluate("(hash) => { window.location.hash = hash; }", path)


async def test_an_incomplete_form_shows_each_problem_at_its_field_and_saves_nothing(
    people: People, api: Api
) -> None:
    # given: Max opens "New request" and chooses a support ticket
    title = f"Gateway offline {secrets.token_hex(3)}"
    before = await titles(api, MAX)
    max_ = await people.sign_in(MAX, DESKTOP)
    await max_.get_by_role("link", name="My requests").click()
    await max_.get_by_role("link", name="New request").click()
    await max_.get_by_role("radio", name=re.compile("^Support ticket")).check()
    form = max_.get_by_role("form", name="Support ticket")
    await expect(form).to_be_visible()
    # the field for another system is there only once "Other" is chosen
    other = form.get_by_label(re.compile("^Which system"))
    await expect(other).to_be_hidden()

    # when: he gives a title and a description, picks "Other" and submits
    await form.get_by_label(re.compile("^Title")).fill(title)
    await form.get_by_label(re.compile("^What happened")).fill("The gateway stopped sending data.")
    await form.get_by_role("radio", name="Other").check()
    await expect(other).to_be_visible()
    await form.get_by_role("button", name="Submit request").click()

    # then: the problems are listed first (focused), each also next to its field
    summary = form.get_by_test_id("error-summary")
    await expect(summary.get_by_role("heading")).to_be_focused()
    await expect(summary.get_by_role("link")).to_have_count(2)  # severity, which system
    severity = form.locator("[data-field=severity]")
    await expect(severity.locator(".field-error")).to_contain_text("Choose an option")
    await expect(other).to_have_attribute("aria-invalid", "true")
    # and a link in the summary takes him to the field
    await summary.get_by_role("link", name=re.compile("^Which system")).click()
    await expect(other).to_be_focused()
    # nothing was saved, nothing typed was lost
    assert await titles(api, MAX) == before
    await expect(form.get_by_label(re.compile("^Title"))).to_have_value(title)

    # when: he completes the form, with a log file
    await other.fill("Warehouse scanners")
    await expect(other).not_to_have_attribute("aria-invalid", "true")
    await form.get_by_role("radio", name=re.compile("^Normal")).check()
    log: FilePayload = {"name": "gateway.log", "mimeType": "text/plain", "buffer": b"08:59 off\n"}
    await form.get_by_label(re.compile("^Screenshots or logs")).set_input_files(files=[log])
    await expect(form.get_by_role("button", name="Remove gateway.log")).to_be_visible()
    await form.get_by_role("button", name="Submit request").click()

    # then: the request is shown, received
    heading = max_.get_by_role("heading", level=1)
    await expect(heading).to_contain_text(title)
    await expect(max_.get_by_test_id("request-status")).to_have_attribute("data-status", "RECEIVED")
    await expect(max_.locator("main")).to_contain_text("Warehouse scanners")
    # and the file is there, as a received item of its checklist
    document = max_.locator(".checklist li", has_text="Screenshots or logs")
    await expect(document).to_contain_text("Received")
    await expect(document).to_contain_text("gateway.log")
    assert title in await titles(api, MAX)


async def test_staff_ask_for_information_and_the_answer_moves_the_request_on_live(
    people: People, api: Api
) -> None:
    # given: Sam has his queue open, and Max submits a support ticket
    sam = await people.sign_in(SAM, DESKTOP)
    await go(sam, "#/queue/open")
    await expect(sam.get_by_role("heading", name="Request queue", level=1)).to_be_visible()
    await expect(sam.get_by_test_id("connection")).to_have_text("Live")
    types = await request_types(api)
    title = f"Reports are empty {secrets.token_hex(3)}"
    answers = {
        "severity": "normal",
        "system": "Reporting",
        "description": "Yesterday's report has no rows.",
    }
    made = await api(
        MAX, SUBMIT, input={"typeId": types["Support ticket"], "title": title, "answers": answers}
    )
    request = made["submitRequest"]["request"]

    # then: it arrives in Sam's queue without a reload; he opens it
    await sam.get_by_role("link", name=re.compile(re.escape(title))).click()
    await expect(sam.get_by_role("heading", level=1)).to_contain_text(title)
    await expect(sam.get_by_test_id("request-status")).to_have_attribute("data-status", "RECEIVED")

    # when: he asks Max for information
    status = sam.get_by_role("form", name="Change the status")
    await status.get_by_label("New status").select_option("NEEDS_INFO")
    await status.get_by_label("Reason or question").fill("Which report, please?")
    await status.get_by_label("Documents to ask for").fill("Screenshot of the report")
    await status.get_by_role("button", name="Change status").click()
    await expect(sam.get_by_test_id("request-status")).to_have_attribute(
        "data-status", "NEEDS_INFO"
    )

    # and Max, on the request, answers
    max_ = await people.sign_in(MAX, DESKTOP)
    await go(max_, f"#/requests/{request['id']}")
    await expect(max_.get_by_test_id("request-status")).to_have_attribute(
        "data-status", "NEEDS_INFO"
    )
    await expect(max_.get_by_test_id("request-sla")).to_contain_text("waiting for your")
    await max_.get_by_label("Your reply").fill("The weekly stock report.")
    await max_.get_by_role("button", name="Send").click()

    # then: on Sam's open page the request is back in progress, with Max's answer
    await expect(sam.get_by_test_id("request-status")).to_have_attribute(
        "data-status", "IN_PROGRESS"
    )
    await expect(sam.locator(".conversation")).to_contain_text("The weekly stock report.")
    await expect(max_.get_by_test_id("request-status")).to_have_attribute(
        "data-status", "IN_PROGRESS"
    )

    # when: Max sends the screenshot asked for, from the checklist
    shot: FilePayload = {"name": "report.png", "mimeType": "image/png", "buffer": b"\x89PNG"}
    await max_.get_by_label("Upload Screenshot of the report").set_input_files(files=[shot])

    # then: Sam's checklist shows it received, live
    document = sam.locator(".checklist li", has_text="Screenshot of the report")
    await expect(document).to_contain_text("Received")
    await expect(document).to_contain_text("report.png")
