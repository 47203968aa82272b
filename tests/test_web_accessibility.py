"""The web client against WCAG 2.1 AA, in a real Chromium: every view (signed out and in, a
contact's and staff's) is checked with axe-core's rules tagged wcag2a, wcag2aa, wcag21a and
wcag21aa, at desktop (1280 by 800) and phone (390 by 844) widths, in the light and the dark colour
scheme; the test fails listing every violation, by view, width and scheme. The contrast of
what axe-core does not measure (input borders, the focus ring: 3:1) is measured too. A
screenshot of each view (on a desktop in the light scheme, on a phone in the dark one) is
kept in ``var/screenshots/a11y-<view>-<width>-<scheme>.png``.

And a keyboard-only journey: open a page, edit it, meet a conflict and resolve it, with Tab,
arrows, Enter and typing alone, focus always where the next step is.

axe-core is a development dependency of ``clients/web`` (``make web`` installs it); it is
evaluated in the page through the browser's debugging protocol, which the page's Content
Security Policy does not restrict. One browser for the module, a server shared with the
other modules that change only what they make; each view is reached once and checked in its
four renderings without reloading. The views render alike on either database, so the check
of every view runs where the database is SQLite (the suite runs on both in CI)."""

from __future__ import annotations

import os
import re
import secrets
from typing import Any
from urllib.parse import quote

import pytest
from playwright.async_api import Locator, Page, ViewportSize, expect

from app.db import is_postgres
from domain import totp
from graphql_schema.relay import global_id
from tests.browser import (
    PAGE,
    PASSWORD,
    PHONE,
    PORTAL,
    ROOT,
    SCREENSHOTS,
    Api,
    People,
    Server,
    browser,
    people,
    web_build,
)
from tests.mailed import maildir_link, server_maildir
from tests.test_web_library import folder, published
from tests.test_web_requests import request_types

__all__ = ["browser", "people", "web_build"]  # fixtures this module's tests use

AXE = ROOT / "clients" / "web" / "node_modules" / "axe-core" / "axe.min.js"
WIDE = ViewportSize(width=1280, height=800)
NARROW = ViewportSize(width=390, height=844)
RENDERINGS = [
    ("desktop", WIDE, "light"),
    ("desktop", WIDE, "dark"),
    ("phone", NARROW, "light"),
    ("phone", NARROW, "dark"),
]
# a screenshot of each view on a desktop in light and on a phone in dark (both of each)
SCREENSHOT_RENDERINGS = {("desktop", "light"), ("phone", "dark")}
RUN_AXE = """async () => {
  const result = await window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary.replace(/\\s+/g, " ")}`),
  }));
}"""

SAM = "sam@provider.example"
EMPTY_PROJECT = "Fleet telematics pilot"
BODY = "# Yard app\n\nBooking in 2 taps.\n\nModules:\n- Booking\n- Billing\n"
PROJECTS = "{ projects(first: 20) { edges { node { id name } } } }"
CUSTOMERS = "{ customers { edges { node { id name } } } }"
CREATE_PAGE = """mutation ($project: ID!, $title: String!, $body: String!) {
  createPage(input: {projectId: $project, title: $title, body: $body}) { page { id } } }"""
UPDATE_PAGE = """mutation ($page: ID!, $base: Int!, $body: String!) {
  updatePage(input: {pageId: $page, baseRevision: $base, body: $body}) { page { revision } } }"""
COMMENT = """mutation ($project: ID!, $page: ID!, $body: String!) {
  postMicropost(input: {projectId: $project, pageId: $page, body: $body}) { micropost { id } } }"""
POST = """mutation ($project: ID!, $body: String!, $parent: ID) {
  postMicropost(input: {projectId: $project, body: $body, inReplyToId: $parent}) {
    micropost { id } } }"""
ME = "{ me { id } }"
MAX = "max@acme.example"
ADMIN = "admin@provider.example"
CREATE_SERVICE_ACCOUNT = """mutation {
  createServiceAccount(input: {name: "ERP export", role: ADMIN}) { serviceAccount { id } } }"""
SUBMIT_REQUEST = """mutation ($input: SubmitRequestInput!) {
  submitRequest(input: $input) { request { id } } }"""
REPLY_TO_REQUEST = """mutation ($input: ReplyToRequestInput!) {
  replyToRequest(input: $input) { request { id } } }"""
TICKET_TITLE = "Scanner gateway offline"
SUPPORT_TICKET: dict[str, Any] = {
    "title": TICKET_TITLE,
    "answers": {
        "severity": "high",
        "system": "Sensor gateway",
        "description": "No data since 9:00.",
    },
}
INVITE = """mutation ($customer: ID!, $address: String!, $name: String!) {
  inviteContact(input: {customerId: $customer, email: $address, name: $name}) {
    invitationToken } }"""
REQUIRE_MFA = """mutation ($customer: ID!) {
  setMfaRequirement(input: {required: true, customerId: $customer}) { customer { name } } }"""


@pytest.fixture(scope="module")
def server(shared_server: Server) -> Server:
    return shared_server  # shared with the other modules that change only what they make


@pytest.fixture(scope="module")
def api(server: Server) -> Api:
    return Api(server)


class Audit:
    """axe-core's WCAG 2.1 AA rules run on views; the violations found, by view."""

    def __init__(self) -> None:
        if not AXE.is_file():
            pytest.fail(f"{AXE} is missing: make web installs clients/web's dependencies")
        self.source = AXE.read_text()
        self.violations: list[str] = []
        self.views: list[str] = []

    async def check(self, page: Page, view: str) -> None:
        """Check the view as it is now in each width and scheme; the page is left at the
        width it had, in the light scheme."""
        before = page.viewport_size
        self.views.append(view)
        for width, viewport, scheme in RENDERINGS:
            await page.set_viewport_size(viewport)
            await page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
            if not await page.evaluate("() => typeof window.axe === 'object'"):
                await page.evaluate(self.source)
            found: list[dict[str, Any]] = await page.evaluate(RUN_AXE)
            for violation in found:
                self.violations.append(
                    f"{view} ({width}, {scheme}): {violation['id']} [{violation['impact']}] "
                    f"{violation['help']}\n    " + "\n    ".join(violation["nodes"][:5])
                )
            if (width, scheme) in SCREENSHOT_RENDERINGS:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                name = f"a11y-{view}-{width}-{scheme}.png"
                await page.screenshot(path=SCREENSHOTS / name, full_page=True)
        await page.emulate_media(color_scheme="light")
        if before:
            await page.set_viewport_size(before)

    def assert_clean(self) -> None:
        assert self.violations == [], (
            f"WCAG 2.1 AA violations in {len(self.violations)} view renderings:\n"
            + "\n".join(self.violations)
        )


# The contrast ratio (WCAG 2.1) between two computed colours, and the first opaque
# background colour behind an element.
CONTRAST = """(() => {
  const channel = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const luminance = (colour) => {
    const [r, g, b] = colour.match(/[\\d.]+/g).slice(0, 3).map(Number).map(channel);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (high + 0.05) / (low + 0.05);
  };
  const behind = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const colour = getComputedStyle(e).backgroundColor;
      const alpha = colour.match(/[\\d.]+/g)[3];
      if (alpha === undefined || Number(alpha) === 1) return colour;
    }
    return "rgb(255, 255, 255)";
  };
  return { ratio, behind };
})()"""
NON_TEXT_CONTRAST = (
    "() => { const { ratio, behind } = "
    + CONTRAST
    + """;
  const focused = document.activeElement;
  const input = document.querySelector("main input[type=text]");
  return {
    "input border": ratio(getComputedStyle(input).borderTopColor, behind(input.parentElement)),
    "focus ring": ratio(getComputedStyle(focused).outlineColor, behind(focused.parentElement)),
    "focus ring style": getComputedStyle(focused).outlineStyle,
  };
}"""
)


async def non_text_contrast(page: Page, scheme: str) -> dict[str, Any]:
    """The contrast of an input's border and of the focus ring around the focused control
    against what surrounds them, in `scheme`."""
    await page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    try:
        return dict(await page.evaluate(NON_TEXT_CONTRAST))
    finally:
        await page.emulate_media(color_scheme="light")


async def ids(api: Api) -> dict[str, str]:
    projects = (await api(SAM, PROJECTS))["projects"]["edges"]
    found = {e["node"]["name"]: e["node"]["id"] for e in projects}
    customers = (await api("admin@provider.example", CUSTOMERS))["customers"]
    found.update({e["node"]["name"]: e["node"]["id"] for e in customers["edges"]})
    return found


async def new_page(api: Api, project: str) -> tuple[str, str]:
    title = f"Yard app {secrets.token_hex(3)}"
    made = await api(SAM, CREATE_PAGE, project=project, title=title, body=BODY)
    return str(made["createPage"]["page"]["id"]), title


async def go(page: Page, path: str) -> None:
    await page.evaluate("(hash) => { window.location.hash = hash; }", path)


def page_link(page_id: str) -> str:
    return f"#/pages/{quote(page_id, safe='')}"


@pytest.mark.skipif(
    is_postgres(os.environ.get("DATABASE_URL", "")),
    reason="the views render alike on either database; checked where it is SQLite",
)
async def test_every_view_meets_wcag_2_1_aa_at_both_widths_in_both_schemes(
    people: People, api: Api
) -> None:
    audit = Audit()
    known = await ids(api)
    portal = known[PORTAL]
    page_id, title = await new_page(api, portal)
    await api(SAM, UPDATE_PAGE, page=page_id, base=1, body=BODY + "- Reports\n")
    await api(SAM, COMMENT, project=portal, page=page_id, body="Reports **too**?")
    posted = await api(SAM, POST, project=portal, body="@anna see #booking-flow")
    post_id = posted["postMicropost"]["micropost"]["id"]
    await api("anna@acme.example", POST, project=portal, body="Yes.", parent=post_id)
    anna_id = (await api("anna@acme.example", ME))["me"]["id"]
    invited = await api(
        SAM, INVITE, customer=known["Acme Logistics"], address="nora@acme.example", name="Nora"
    )
    assert invited["inviteContact"]["invitationToken"] is None  # it is mailed
    invitation = await maildir_link(server_maildir(api.server), "nora@acme.example", "invitation")

    # signed out: the sign-in form, then two-factor set-up (required of Globex's contacts)
    await api("admin@provider.example", REQUIRE_MFA, customer=known["Globex Retail"])
    context = await people.browser.new_context(viewport=WIDE)
    people.contexts.append(context)
    gina = await context.new_page()
    gina.on("pageerror", lambda error: people.errors.append(f"gina: {error}"))
    await gina.goto(f"{api.server.url}#/invitation/{invitation}")
    await expect(gina.get_by_role("heading", level=1)).to_be_visible()
    await audit.check(gina, "invitation")
    await gina.goto(f"{api.server.url}#/forgot-password")
    await expect(gina.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    await audit.check(gina, "forgot-password")
    await gina.goto(f"{api.server.url}#/reset-password/not-a-real-token")
    await expect(gina.get_by_role("heading", name="Choose a new password")).to_be_visible()
    await audit.check(gina, "reset-password")
    await gina.goto(api.server.url)
    await expect(gina.get_by_role("button", name="Sign in")).to_be_visible()
    await audit.check(gina, "sign-in")
    await gina.get_by_label("Email").fill("gina@globex.example")
    # a wrong password: the notice is read out, focus on the password to type it again
    await gina.get_by_label("Password").fill("not her password")
    await gina.get_by_role("button", name="Sign in").click()
    await expect(gina.get_by_role("alert")).to_be_visible()
    await expect(gina.get_by_label("Password")).to_be_focused()
    await gina.get_by_label("Password").fill(PASSWORD)
    await gina.get_by_role("button", name="Sign in").click()
    secret = await gina.get_by_test_id("totp-secret").inner_text()
    await expect(gina).to_have_title("Set up two-factor sign-in \N{EN DASH} Extranet")
    await audit.check(gina, "two-factor-setup")
    await gina.get_by_label("Code from your authenticator app").fill(totp.current_code(secret))
    await gina.get_by_role("button", name="Turn it on and sign in").click()
    await expect(gina.get_by_test_id("recovery-codes")).to_be_visible()
    await expect(gina).to_have_title("Your recovery codes \N{EN DASH} Extranet")
    await audit.check(gina, "recovery-codes")
    await context.close()
    people.contexts.remove(context)

    # signed in, as staff (who sees every control)
    sam = await people.sign_in(SAM, WIDE)
    await audit.check(sam, "home")
    await sam.get_by_role("link", name=PORTAL).click()
    await expect(sam.get_by_role("heading", name=PORTAL, level=1)).to_be_visible()
    await expect(sam.get_by_test_id("connection")).to_have_text("Live")
    await audit.check(sam, "project")
    await go(sam, f"#/projects/{quote(known[EMPTY_PROJECT], safe='')}")
    await expect(sam.get_by_role("heading", name=EMPTY_PROJECT, level=1)).to_be_visible()
    await audit.check(sam, "project-empty")
    await sam.get_by_role("button", name="New page").click()
    await expect(sam.get_by_role("form", name="New page")).to_be_visible()
    await audit.check(sam, "project-new-page")
    await go(sam, "#/inbox")
    await expect(sam.get_by_role("heading", level=1)).to_have_text(re.compile("Inbox"))
    await audit.check(sam, "inbox")
    await go(sam, f"#/posts/{quote(post_id, safe='')}")
    await expect(sam.locator("main")).to_contain_text("Yes.")
    await audit.check(sam, "post")
    await go(sam, "#/search")
    await expect(sam.get_by_role("heading", level=1)).to_be_visible()
    await audit.check(sam, "search")
    await go(sam, "#/search/booking")
    await expect(sam.get_by_role("link", name=PAGE).first).to_be_visible()
    await audit.check(sam, "search-results")
    await go(sam, "#/topics/booking-flow")
    await expect(sam.locator("main")).to_contain_text("see")
    # "Open" on each post says which post it opens
    await expect(
        sam.get_by_role(
            "link", name=re.compile(r"^Open Sam Account-Manager's post of \w+ \d+, ")
        ).first
    ).to_be_visible()
    await audit.check(sam, "topic")
    await go(sam, f"#/people/{quote(anna_id, safe='')}")
    await expect(sam.get_by_role("heading", level=1)).to_contain_text("Anna")
    await audit.check(sam, "person")
    await go(sam, f"#/invite/{quote(known['Acme Logistics'], safe='')}")
    await expect(sam.get_by_role("button", name=re.compile("Invite"))).to_be_visible()
    await audit.check(sam, "invite")
    await go(sam, "#/account")
    await expect(sam.get_by_role("button", name="Save mail preferences")).to_be_visible()
    await audit.check(sam, "account")

    # integrations, as an administrator: a new token shown once, service accounts, webhooks
    await api(ADMIN, CREATE_SERVICE_ACCOUNT)
    admin = await people.sign_in(ADMIN, WIDE)
    await go(admin, "#/integrations")
    new_token = admin.get_by_role("form", name="New personal token")
    await new_token.get_by_label("Name").fill("Accessibility check")
    await new_token.get_by_label("Requests").select_option("read")
    await new_token.get_by_role("button", name="Create token").click()
    await expect(admin.get_by_test_id("new-token")).to_be_focused()
    await audit.check(admin, "integrations")

    # requests: staff's queue and one request, with a conversation and an internal note
    types = await request_types(api)
    ticket = await api(
        MAX, SUBMIT_REQUEST, input=SUPPORT_TICKET | {"typeId": types["Support ticket"]}
    )
    request_id = ticket["submitRequest"]["request"]["id"]
    await api(MAX, REPLY_TO_REQUEST, input={"requestId": request_id, "body": "Since **9:00**."})
    await api(
        SAM,
        REPLY_TO_REQUEST,
        input={"requestId": request_id, "body": "Checking.", "visibility": "INTERNAL"},
    )
    await go(sam, "#/queue/open")
    await expect(sam.get_by_role("link", name=re.compile(TICKET_TITLE)).first).to_be_visible()
    await audit.check(sam, "request-queue")
    await go(sam, f"#/requests/{quote(request_id, safe='')}")
    await expect(sam.locator(".conversation")).to_contain_text("Checking.")
    await audit.check(sam, "request")

    # a contact's requests, and the form of a new one with the problems of a refused try
    max_ = await people.sign_in(MAX, WIDE)
    await go(max_, "#/requests")
    await expect(max_.get_by_role("link", name=re.compile(TICKET_TITLE)).first).to_be_visible()
    await audit.check(max_, "my-requests")
    await go(max_, "#/requests/new")
    await max_.get_by_role("radio", name=re.compile("^Support ticket")).check()
    await max_.get_by_role("button", name="Submit request").click()
    await expect(max_.get_by_test_id("error-summary").get_by_role("heading")).to_be_focused()
    await audit.check(max_, "new-request-problems")

    # a customer's documents (a member's: no amounts), and a quote's confirmation (staff)
    await go(max_, "#/documents")
    await expect(max_.locator('[data-number="2026-0431"]')).to_contain_text("Overdue")
    await audit.check(max_, "documents")
    await go(sam, "#/documents")
    sent = sam.locator('[data-number="Q-1001"]')
    await sent.get_by_role("button", name="Decline Q-1001").click()
    await expect(sent.get_by_role("button", name="Decline quote Q-1001")).to_be_focused()
    await audit.check(sam, "documents-confirm")
    await sent.get_by_role("button", name="Cancel").click()

    # the library: a member's, by folder; a document to acknowledge; staff's document page
    quality = await folder(api, SAM, f"Quality {secrets.token_hex(2)}", known["Acme Logistics"])
    certificate = await published(
        api,
        SAM,
        "ISO 9001 certificate",
        customer_id=known["Acme Logistics"],
        acknowledge=True,
        tags=("iso",),
        folder_id=quality,
    )
    await go(max_, "#/library")
    await expect(max_.locator(".library-folder .library-item").first).to_be_visible()
    await audit.check(max_, "library")
    await go(max_, f"#/library/{quote(certificate, safe='')}")
    await expect(max_.get_by_role("button", name="Acknowledge version 1")).to_be_visible()
    await audit.check(max_, "library-document")
    await go(sam, f"#/library/{quote(certificate, safe='')}")
    await expect(sam.get_by_role("form", name="Upload a new version")).to_be_visible()
    await audit.check(sam, "library-document-staff")

    # the home dashboard: the queue, a customer's tiles, charts and a chart's figures
    await go(sam, "#/dashboard")
    burn = sam.get_by_test_id("chart-burn-EUR")
    await expect(burn.locator("canvas")).to_be_visible()
    await burn.get_by_text("the figures").click()
    await audit.check(sam, "dashboard")

    # a concept page: as read, with its history and a diff, the follow panel, the editor
    await go(sam, page_link(page_id))
    await expect(sam.get_by_role("heading", name=title, level=1)).to_be_visible()
    await expect(sam.get_by_test_id("comment-count")).to_have_text("(1 comment)")
    await audit.check(sam, "page")
    await sam.get_by_role("button", name="Changes in revision 2").click()
    await expect(sam.locator("figure.diff figcaption")).to_be_focused()
    await audit.check(sam, "page-diff")
    await sam.get_by_role("button", name="Unwatch").click()
    await expect(sam.locator(".watch-message .notice")).to_be_visible()
    await audit.check(sam, "page-watch")
    await sam.get_by_role("button", name="Edit page").click()
    text = sam.get_by_label("Text (Markdown)")
    await text.fill(BODY.replace("2 taps", "one tap") + "- Reports\n")
    await audit.check(sam, "page-editor")
    await text.press("Shift+Tab")  # to the title, by keyboard: the focus ring shows
    await expect(sam.get_by_label("Title")).to_be_focused()
    for scheme in ("light", "dark"):
        measured = await non_text_contrast(sam, scheme)
        assert measured["focus ring style"] == "solid", measured
        assert measured["input border"] >= 3, (scheme, measured)
        assert measured["focus ring"] >= 3, (scheme, measured)

    # the conflict panel, and the choices after "Edit again"
    await api("anna@acme.example", UPDATE_PAGE, page=page_id, base=2, body=BODY.replace("2", "3"))
    await sam.get_by_role("button", name="Save").click()
    await expect(sam.get_by_role("heading", name=re.compile("^Not saved"))).to_be_focused()
    await audit.check(sam, "page-conflict")
    await sam.get_by_role("button", name="Edit again from revision 3").click()
    await expect(sam.get_by_role("form", name="Finish your draft on revision 3")).to_be_visible()
    await audit.check(sam, "page-resolver")

    # a page that is not there
    await go(sam, page_link(global_id("Page", 999_999)))
    await expect(sam.get_by_role("heading", name="Page not found")).to_be_visible()
    await audit.check(sam, "not-found")

    # the server cannot be reached: the notice with Try again, which has focus
    await sam.route("**/graphql", lambda route: route.abort())
    await go(sam, page_link(page_id))
    await expect(sam.get_by_role("button", name="Try again")).to_be_focused()
    await audit.check(sam, "page-offline")
    await sam.unroute("**/graphql")

    audit.assert_clean()


async def tab_to(page: Page, target: Locator, presses: int = 80) -> None:
    """Press Tab until `target` has focus (fails after `presses`)."""
    for _ in range(presses):
        if await target.evaluate("(element) => element === document.activeElement"):
            return
        await page.keyboard.press("Tab")
    focused = await page.evaluate("() => document.activeElement?.outerHTML.slice(0, 120)")
    raise AssertionError(f"Tab did not reach {target} in {presses} presses; focus: {focused}")


async def test_a_page_is_edited_and_a_conflict_resolved_with_the_keyboard_alone(
    people: People, api: Api
) -> None:
    # given: Max, on a phone, opens a page; the keyboard is all he uses from here
    known = await ids(api)
    page_id, title = await new_page(api, known[PORTAL])
    max_ = await people.sign_in("max@acme.example", PHONE)
    await go(max_, page_link(page_id))
    heading = max_.get_by_role("heading", name=title, level=1)
    await expect(heading).to_be_focused()

    # when: he opens the editor and changes a line
    await tab_to(max_, max_.get_by_role("button", name="Edit page"))
    await max_.keyboard.press("Enter")
    text = max_.get_by_label("Text (Markdown)")
    await expect(text).to_be_focused()
    await max_.keyboard.press("Control+End")
    await max_.keyboard.type("- Reports\n")
    await max_.keyboard.press("Tab")  # to the summary
    await expect(max_.get_by_label("Summary of your change")).to_be_focused()
    await max_.keyboard.type("Reports module")
    # and Sam saves a change to the same place meanwhile
    await api(SAM, UPDATE_PAGE, page=page_id, base=1, body=BODY + "- Invoices\n")
    await max_.keyboard.press("Enter")  # submits the form

    # then: focus is on the conflict panel's heading
    conflict = max_.get_by_role("heading", name=re.compile("^Not saved"))
    await expect(conflict).to_be_focused()

    # when: he edits again, keeps both, and saves
    await tab_to(max_, max_.get_by_role("button", name="Edit again from revision 2"))
    await max_.keyboard.press("Enter")
    resolver = max_.get_by_role("form", name="Finish your draft on revision 2")
    await expect(resolver.get_by_role("heading", level=2)).to_be_focused()
    current = resolver.get_by_role("radio", name=re.compile("^Keep the text now"))
    await tab_to(max_, current)
    await max_.keyboard.press("ArrowDown")  # Keep yours
    await max_.keyboard.press("ArrowDown")  # Keep both
    await expect(resolver.get_by_role("radio", name=re.compile("^Keep both"))).to_be_checked()
    await tab_to(max_, resolver.get_by_role("button", name="Continue in the editor"))
    await max_.keyboard.press("Enter")
    await expect(text).to_be_focused()
    await expect(text).to_have_value(BODY + "- Invoices\n- Reports\n")
    await expect(max_.get_by_label("Summary of your change")).to_have_value("Reports module")
    await tab_to(max_, max_.get_by_role("button", name="Save"))
    await max_.keyboard.press("Enter")

    # then: saved, focus on the result, and the page has both lines
    outcome = max_.locator(".outcome .notice")
    await expect(outcome).to_contain_text("Saved as revision 3")
    await expect(outcome).to_be_focused()
    await expect(max_.locator(".page-body")).to_contain_text("Invoices")
    await expect(max_.locator(".page-body")).to_contain_text("Reports")
