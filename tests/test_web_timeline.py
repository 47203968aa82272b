"""The web client's project timeline, inbox, search, invitations and shell, in a real
headless Chromium against ``extranet serve`` with the demo data (see tests/browser.py).

* Keyboard only: sign in, open a project, post (Ctrl+Enter), reply, read the inbox and
  reach older notifications, sign out; focus lands on each result, never on <body>.
* The inbox pages to older notifications, "Open" opens the post itself, a long excerpt has
  "Show more", a new notification comes in without rebuilding the list (focus stays), and
  "Mark as read" keeps focus on the notification.
* The timeline: a page comment names its page, staff write internal notes, @mentions and
  #topics are links, a post has a link of its own, Escape closes a reply or edit form and
  returns focus, unsaved text is not lost silently, the text limit counts characters as
  the server does, relative times, accessible names that say which post, the side column
  before the timeline in tab order, empty states, a new page, cancelling a project only
  after confirmation, a network failure with "Try again", document titles.
* Search, and inviting a contact who then accepts the link.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Locator, Page, Route, expect

from tests.browser import (
    DESKTOP,
    LOGIN,
    PASSWORD,
    PHONE,
    PORTAL,
    Dialogs,
    People,
    Server,
    browser,
    call_api,
    client_behaviour,
    demo_server,
    open_project,
    people,
    screenshot,
    unread,
    web_build,
)
from tests.mailed import maildir_link, server_maildir

__all__ = ["browser", "people", "web_build"]  # fixtures this module's tests use

FLEET = "Fleet telematics pilot"
DASH = "\N{EN DASH}"  # between the parts of a document title
OLDER_MENTIONS = 34  # with the demo's own, more than the inbox's first page of 30
PROJECTS = "{ projects(first: 20) { edges { node { id name } } } }"
PAGES = """query ($id: ID!) { project(id: $id) { pages { edges { node { id title } } } } }"""
CHANGE_STATUS = """mutation ($project: ID!, $status: ProjectStatus!) {
  changeProjectStatus(input: {projectId: $project, status: $status}) { project { status } } }"""
POST = """mutation ($project: ID!, $body: String!, $page: ID) {
  postMicropost(input: {projectId: $project, body: $body, pageId: $page}) { micropost { id } } }"""


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    async with demo_server(tmp_path_factory.mktemp("web-timeline")) as running:
        await _seed(running)
        yield running


async def _seed(server: Server) -> None:
    """Sam mentions Max often enough that Max's inbox has an older page (the newest one is
    long), and comments on the concept page; Anna posts last."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        login = await http.post(
            "graphql",
            json={
                "query": LOGIN,
                "variables": {"email": "sam@provider.example", "password": PASSWORD},
            },
        )
        headers = {"Authorization": f"Bearer {login.json()['data']['login']['accessToken']}"}

        async def call(query: str, **variables: object) -> dict[str, Any]:
            answer = (
                await http.post(
                    "graphql", json={"query": query, "variables": variables}, headers=headers
                )
            ).json()
            assert "errors" not in answer, answer
            return dict(answer["data"])

        projects = await call(PROJECTS)
        portal = next(
            e["node"]["id"] for e in projects["projects"]["edges"] if e["node"]["name"] == PORTAL
        )
        pages = await call(PAGES, id=portal)
        page = pages["project"]["pages"]["edges"][0]["node"]
        await asyncio.gather(
            *(
                call(POST, project=portal, body=f"Checklist item {n + 1} for @max is done.")
                for n in range(OLDER_MENTIONS - 1)
            )
        )
        long_text = "\n\n".join(
            f"Paragraph {n} of the yard report for @max, with details." for n in range(8)
        )
        await call(POST, project=portal, body=long_text)
        await call(
            POST, project=portal, body="A comment on the flow: step two is slow.", page=page["id"]
        )
    await call_api(server, "anna@acme.example", POST, project=portal, body="Gate 2 opens at six.")


async def tab_to(page: Page, target: Locator, *, backwards: bool = False, limit: int = 150) -> None:
    """Press Tab (Shift+Tab) until `target` has focus, as a keyboard user would."""
    key = "Shift+Tab" if backwards else "Tab"
    await target.evaluate("element => { element.dataset.tabTarget = 'yes'; }")
    for _ in range(limit):
        await page.keyboard.press(key)
        if await page.evaluate("document.activeElement?.dataset?.tabTarget === 'yes'"):
            await target.evaluate("element => { delete element.dataset.tabTarget; }")
            return
    raise AssertionError(f"{target} was not reached with {key}")


async def focused_post(page: Page) -> str:
    """The data-post-id of the post that has focus ('' when focus is elsewhere)."""
    return str(await page.evaluate("document.activeElement?.dataset?.postId ?? ''"))


async def test_a_keyboard_user_signs_in_posts_replies_reads_the_inbox_and_signs_out(
    people: People, server: Server
) -> None:
    context = await people.browser.new_context(viewport=DESKTOP)
    people.contexts.append(context)
    page = await context.new_page()
    page.on("pageerror", lambda error: people.errors.append(f"keyboard: {error}"))
    await page.goto(server.url)

    # sign in: the email field has focus; Enter sends the form
    await expect(page.get_by_label("Email")).to_be_focused()
    await page.keyboard.type("max@acme.example")
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Projects", level=1)).to_be_focused()
    await expect(page).to_have_title(f"Projects {DASH} Extranet")

    # open a project
    await tab_to(page, page.get_by_role("link", name=PORTAL))
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name=PORTAL, level=1)).to_be_focused()
    await expect(page).to_have_title(f"{PORTAL} {DASH} Extranet")

    # post with Ctrl+Enter: focus lands on the new post
    await tab_to(page, page.get_by_label("New post"))
    await page.keyboard.type("Yard test booked for Friday.")
    await page.keyboard.press("Control+Enter")
    mine = page.locator("article.post", has_text="Yard test booked for Friday.")
    await expect(mine).to_be_focused()

    # reply to it: its Reply button says whose post; focus lands on the reply
    reply_button = page.get_by_role("button", name=re.compile(r"^Reply to your post of "))
    await tab_to(page, reply_button.first)
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Reply to Max Member (Acme)")).to_be_focused()
    await page.keyboard.type("And the trucks are ready.")
    await page.keyboard.press("Control+Enter")
    await expect(
        page.locator("article.reply", has_text="And the trucks are ready.")
    ).to_be_focused()

    # the inbox, and its older notifications
    inbox = page.get_by_role("link", name=re.compile(r"^Inbox"))
    await tab_to(page, inbox, backwards=True)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_focused()
    await expect(page).to_have_title(re.compile(rf"^Inbox \(\d+\) {DASH} Extranet$"))
    notifications = page.locator("li.notification")
    await expect(notifications).to_have_count(30)
    older = page.get_by_role("button", name="Show older notifications")
    await tab_to(page, older)
    await page.keyboard.press("Enter")
    await expect(notifications.nth(30)).to_be_focused()
    assert await notifications.count() > 30

    # sign out
    await tab_to(page, page.get_by_role("button", name="Sign out"), backwards=True)
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Email")).to_be_focused()
    await expect(page.get_by_text("You are signed out.")).to_be_visible()


@client_behaviour
async def test_the_inbox_opens_the_post_shows_more_and_keeps_focus_when_things_change(
    people: People, server: Server
) -> None:
    max_ = await people.sign_in("max@acme.example", PHONE)
    await max_.get_by_role("link", name=re.compile(r"^Inbox")).click()
    first = max_.locator("li.notification").first
    await expect(first).to_contain_text("Paragraph 0 of the yard report")

    # a long excerpt is cut at a line, with "Show more" that says of which notification
    more = first.get_by_role(
        "button", name=re.compile(r"^Show more of Sam Account-Manager's post of ")
    )
    await more.click()
    await expect(first.get_by_role("button", name="Show less")).to_have_attribute(
        "aria-expanded", "true"
    )
    await expect(first.get_by_text("Paragraph 7 of the yard report")).to_be_visible()

    # "Open" names the post it opens; "Mark as read" leaves focus on the same notification
    second_id = await max_.locator("li.notification").nth(1).get_attribute("data-notification-id")
    second = max_.locator(f"li[data-notification-id='{second_id}']")
    open_second = second.get_by_role(
        "link", name=re.compile(r"^Open Sam Account-Manager's post of ")
    )
    await second.get_by_role("button", name=re.compile(r"^Mark as read")).focus()
    await max_.keyboard.press("Enter")
    await expect(open_second).to_be_focused()
    await expect(second.get_by_text("Unread", exact=True)).to_be_hidden()

    # a new notification arrives: it goes on top, nothing is rebuilt, focus stays
    await max_.evaluate(
        "document.querySelector('li.notification:nth-child(2)').dataset.kept = 'yes'"
    )
    count = await unread(max_)
    portal = await _portal_id(server)
    await _post_as(server, "sam@provider.example", portal, "One more thing for @max: gate 4.")
    await expect(max_.get_by_test_id("unread-count")).to_have_attribute(
        "data-count", str(count + 1)
    )
    await expect(max_.locator("li.notification").first).to_contain_text("gate 4")
    await expect(open_second).to_be_focused()
    assert await max_.evaluate("document.activeElement.closest('li').dataset.kept") == "yes"
    await expect(max_).to_have_title(f"Inbox ({count + 1}) {DASH} Extranet")

    # "Mark all as read": focus goes to the summary that says so
    await max_.get_by_role("button", name="Mark all as read").click()
    await expect(max_.get_by_text(re.compile(r"^No unread notifications"))).to_be_focused()
    await expect(max_).to_have_title(f"Inbox {DASH} Extranet")

    # "Open" goes to the post itself, on a page of its own
    await open_second.click()
    await expect(max_).to_have_url(re.compile(r"#/posts/"))
    await expect(max_.locator("article.post.target")).to_be_focused()
    await expect(max_.get_by_role("heading", level=1)).to_contain_text("Sam Account-Manager's post")
    await screenshot(max_, "post-phone")


@client_behaviour
async def test_a_staff_member_works_on_the_timeline(people: People, server: Server) -> None:
    sam = await people.sign_in("sam@provider.example", DESKTOP)
    await sam.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=server.url.rstrip("/")
    )
    await open_project(sam)

    # the connection state says its state without a decorative "black circle"
    state = sam.get_by_test_id("connection")
    assert await state.inner_text() == "Live"
    assert await state.evaluate("e => getComputedStyle(e, '::before').content") in (
        "none",
        "normal",
    )

    # desktop: the side column (status, following, pages) comes before the long timeline
    await sam.keyboard.press("Tab")
    await expect(sam.get_by_role("link", name="Skip to the timeline")).to_be_focused()
    await sam.keyboard.press("Tab")
    assert await sam.evaluate("!!document.activeElement.closest('aside')")
    side = await sam.locator("aside.secondary").bounding_box()
    primary = await sam.locator("div.primary").bounding_box()
    assert side is not None
    assert primary is not None
    assert side["x"] > primary["x"]

    # a page comment says which page it belongs to
    comment = sam.locator("article.post", has_text="step two is slow")
    await expect(comment.get_by_role("link", name="Booking flow concept")).to_have_attribute(
        "href", re.compile("#/pages/")
    )

    # relative times, the absolute one in the title
    stamp = comment.locator("time").first
    await expect(stamp).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    await expect(stamp).to_have_attribute("title", re.compile(r"\d"))
    await expect(stamp).to_have_text(re.compile(r"now|ago"))

    # buttons say which post they are for
    await expect(
        sam.get_by_role("button", name=re.compile(r"^Reply to Anna Lead \(Acme\)'s post of "))
    ).to_have_count(1)

    # an internal note, marked as such
    composer = sam.get_by_label("New post")
    await composer.fill("Margin check before the next invoice. @olivia #billing")
    await sam.get_by_label("Internal note: only staff can read it").check()
    await sam.get_by_role("button", name="Post", exact=True).click()
    note = sam.locator("article.post.internal", has_text="Margin check")
    await expect(note).to_be_focused()
    await expect(note.get_by_text("Internal note: staff only")).to_be_visible()

    # @mentions and #topics are links
    await expect(note.get_by_role("link", name="@olivia")).to_have_attribute(
        "href", re.compile("#/people/")
    )
    await note.get_by_role("link", name="#billing").click()
    await expect(sam.get_by_role("heading", name="#billing", level=1)).to_be_visible()
    await expect(sam.locator("article.post", has_text="Margin check")).to_be_visible()
    await sam.go_back()
    await expect(sam.get_by_role("heading", name=PORTAL, level=1)).to_be_visible()
    note = sam.locator("article.post.internal", has_text="Margin check")
    await note.get_by_role("link", name="@olivia").click()
    await expect(sam.get_by_role("heading", name="Olivia Consultant", level=1)).to_be_visible()
    await expect(sam).to_have_title(f"Olivia Consultant {DASH} Extranet")
    await sam.go_back()

    # a link of its own: copied, and it opens the post
    note = sam.locator("article.post.internal", has_text="Margin check")
    await note.get_by_role("button", name=re.compile(r"^Copy link to your post of ")).click()
    copied = await sam.evaluate("navigator.clipboard.readText()")
    assert re.search(r"#/posts/\S+$", copied), copied
    post_id = await note.get_attribute("data-post-id")
    await sam.goto(copied)
    await expect(sam.locator(f"article[data-post-id='{post_id}']")).to_be_focused()
    await expect(sam).to_have_title(f"Your post {DASH} {PORTAL} {DASH} Extranet")
    await sam.get_by_role("link", name=PORTAL).first.click()
    await expect(sam.get_by_role("heading", name=PORTAL, level=1)).to_be_visible()

    # Escape closes a reply form and returns focus to its button; typed text is asked about
    reply = sam.get_by_role("button", name=re.compile(r"^Reply to Anna Lead \(Acme\)'s post of "))
    await reply.click()
    await sam.keyboard.press("Escape")
    await expect(reply).to_be_focused()
    await reply.click()
    await sam.keyboard.type("Half a thought")
    dialogs = Dialogs(sam)
    await sam.keyboard.press("Escape")
    assert "Discard" in (await dialogs.shown(1))[0]
    await expect(sam.get_by_role("textbox", name="Reply to Anna Lead (Acme)")).to_have_value(
        "Half a thought"
    )

    # leaving the view with unsaved text asks first: staying keeps the view and the address
    url = sam.url
    await sam.get_by_role("link", name=re.compile(r"^Inbox")).click()
    assert len(await dialogs.shown(2)) == 2
    await expect(sam.get_by_role("textbox", name="Reply to Anna Lead (Acme)")).to_have_value(
        "Half a thought"
    )
    assert sam.url == url
    await sam.get_by_role("textbox", name="Reply to Anna Lead (Acme)").focus()
    dialogs.answers = [True]
    await sam.keyboard.press("Escape")
    await expect(reply).to_be_focused()

    # editing: Save and Cancel leave focus on the post and on Edit
    mine = sam.locator("article.post.internal", has_text="Margin check")
    edit = mine.get_by_role("button", name=re.compile(r"^Edit \(your post of "))
    await edit.click()
    await sam.keyboard.press("Escape")
    await expect(edit).to_be_focused()
    await edit.click()
    await mine.get_by_role("textbox", name="Edit your post").fill(
        "Margin check before the March invoice."
    )
    await sam.keyboard.press("Control+Enter")
    await expect(mine).to_be_focused()
    await expect(mine).to_contain_text("(edited)")

    # the limit counts characters as the server does: 5,000 emoji fit, one more does not
    await composer.fill("🚚" * 5001)
    await expect(sam.get_by_text("1 characters too many (at most 5,000)")).to_be_visible()
    assert not await composer.evaluate("e => e.checkValidity()")
    await composer.fill("🚚" * 5000)
    await expect(sam.get_by_text("0 of 5,000 characters left")).to_be_visible()
    await sam.get_by_role("button", name="Post", exact=True).click()
    await expect(sam.locator("article.post", has_text="🚚🚚🚚").first).to_be_focused()

    # reload with unsaved text: the browser asks
    await composer.fill("Not sent yet")
    kinds: list[str] = []
    sam.once("dialog", lambda dialog: kinds.append(dialog.type))
    await sam.close(run_before_unload=True)
    await dialogs.shown(4)
    await expect(composer).to_have_value("Not sent yet")
    assert kinds == ["beforeunload"]
    await composer.fill("")

    # older posts: focus lands on the first one shown
    before = await sam.eval_on_selector_all("article.post", "all => all.map(a => a.dataset.postId)")
    await sam.get_by_role("button", name="Show older posts").click()
    await expect(sam.locator("article.post:focus")).to_have_count(1)
    assert await focused_post(sam) not in before

    # status: focus on the notice that says it changed
    await sam.get_by_label("New status").select_option("ON_HOLD")
    await sam.get_by_role("button", name="Change status").click()
    await expect(sam.get_by_text(re.compile(r"^Status changed to"))).to_be_focused()
    await screenshot(sam, "timeline-staff-desktop")

    # completing ends the project for good too: it asks first, and refusing changes nothing
    await sam.get_by_label("New status").select_option("COMPLETED")
    await sam.get_by_role("button", name="Change status").click()
    assert "cannot be reopened" in (await dialogs.shown(5))[4]
    await expect(sam.locator("#project-status")).to_have_text("On hold")
    await expect(sam.get_by_role("button", name="Change status")).to_be_focused()

    # someone else changes the status while Sam writes a reason: he is told where he is
    # working, and what he typed stays
    reason = sam.get_by_label("Reason", exact=True)
    await reason.fill("Waiting for the customer")
    found = await call_api(server, "admin@provider.example", PROJECTS)
    portal = next(
        e["node"]["id"] for e in found["projects"]["edges"] if e["node"]["name"] == PORTAL
    )
    await call_api(server, "admin@provider.example", CHANGE_STATUS, project=portal, status="ACTIVE")
    await expect(sam.get_by_text(re.compile("^Someone else changed the status to"))).to_be_focused()
    await expect(sam.locator("#project-status")).to_have_text("Active")
    await expect(reason).to_have_value("Waiting for the customer")


@client_behaviour
async def test_an_empty_project_says_what_to_do_gets_a_page_and_is_cancelled_after_asking(
    people: People,
) -> None:
    sam = await people.sign_in("sam@provider.example", PHONE)
    await sam.get_by_role("link", name=FLEET).click()
    await expect(sam.get_by_role("heading", name=FLEET, level=1)).to_be_visible()
    await expect(
        sam.get_by_text("Nothing has been posted yet. Write the first post above")
    ).to_be_visible()
    await expect(
        sam.get_by_text("No concept pages yet. Start one with “New page”.")
    ).to_be_visible()
    # phone: one column, nothing wider than the screen
    assert await sam.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await screenshot(sam, "empty-project-phone")
    # the side column comes first; a skip link leads past it to the timeline
    await sam.get_by_role("link", name="Skip to the timeline").focus()
    await sam.keyboard.press("Enter")
    await expect(sam.get_by_role("heading", name="Timeline", level=2)).to_be_focused()

    # cancelling asks first: refusing changes nothing
    dialogs = Dialogs(sam)
    await sam.get_by_label("New status").select_option("CANCELLED")
    await sam.get_by_role("button", name="Change status").click()
    assert "customer" in (await dialogs.shown(1))[0]
    await expect(sam.locator("#project-status")).to_have_text("Proposed")
    await expect(sam.get_by_role("button", name="Change status")).to_be_focused()

    # a new page, from the project
    await sam.get_by_role("button", name="New page").click()
    await sam.get_by_label("Title of the new page").fill("Truck list")
    await sam.get_by_role("button", name="Create page").click()
    await expect(sam).to_have_url(re.compile(r"#/pages/"))
    await expect(sam.get_by_role("heading", name="Truck list", level=1)).to_be_visible()
    await sam.go_back()
    await expect(sam.get_by_role("link", name="Truck list")).to_be_visible()
    await expect(sam.get_by_text("No concept pages yet.")).to_be_hidden()

    # accepted: cancelled, focus on the notice
    await sam.get_by_label("New status").select_option("CANCELLED")
    dialogs.answers = [True]
    await sam.get_by_role("button", name="Change status").click()
    assert len(await dialogs.shown(2)) == 2
    await expect(sam.get_by_text(re.compile(r"^Status changed to"))).to_be_focused()
    await expect(sam.locator("#project-status")).to_have_text("Cancelled")


@client_behaviour
async def test_search_a_network_failure_with_retry_and_an_invitation_accepted(
    people: People, server: Server
) -> None:
    anna = await people.sign_in("anna@acme.example", PHONE)

    # search: results name what they are, and a post opens on its own page
    await anna.get_by_role("link", name="Search").click()
    await expect(anna).to_have_title(f"Search {DASH} Extranet")
    await anna.get_by_label("Search pages, posts and attachments").fill("opens at six")
    await anna.keyboard.press("Enter")
    summary = anna.get_by_text(re.compile(r"^\d+ results? for “opens at six”"))
    await expect(summary).to_be_focused()
    await (
        anna.locator(".search-result", has_text="Post")
        .get_by_role("link", name=re.compile("post$"))
        .first.click()
    )
    await expect(anna.locator("article.post.target")).to_contain_text("Gate 2 opens at six.")

    # the server cannot be reached: a notice with "Try again", which works once it can
    async def refuse(route: Route) -> None:
        await route.abort()

    await anna.route("**/graphql", refuse)
    await anna.get_by_role("navigation", name="Main").get_by_role("link", name="Projects").click()
    retry = anna.get_by_role("button", name="Try again")
    await expect(retry).to_be_focused()
    await anna.unroute("**/graphql", refuse)
    await retry.click()
    await expect(anna.get_by_role("link", name=PORTAL)).to_be_visible()
    # a topic's posts alike; once Try again is gone, focus is on the heading, not lost
    await anna.route("**/graphql", refuse)
    await anna.evaluate("() => { window.location.hash = '#/topics/booking'; }")
    await expect(retry).to_be_focused()
    await anna.unroute("**/graphql", refuse)
    await retry.click()
    await expect(anna.get_by_role("heading", name="#booking", level=1)).to_be_focused()
    # a person's page and the invitation form alike: focus on Try again
    await anna.route("**/graphql", refuse)
    for view, heading in (("#/people/VXNlcjox", "Person"), ("#/invite/x", "Invite a contact")):
        await anna.evaluate("(view) => { window.location.hash = view; }", view)
        await expect(anna.get_by_role("heading", name=heading, level=1)).to_be_visible()
        await expect(anna.locator("main").get_by_role("button", name="Try again")).to_be_focused()
    await anna.unroute("**/graphql", refuse)
    await anna.get_by_role("navigation", name="Main").get_by_role("link", name="Projects").click()

    # Anna (a lead contact) invites someone of her domain; the link signs them up
    await anna.get_by_role("link", name="Invite a contact of Acme Logistics").click()
    await expect(
        anna.get_by_role("heading", name="Invite a contact of Acme Logistics")
    ).to_be_focused()
    await anna.get_by_label("Name").fill("Nora New")
    await anna.get_by_label("Email").fill("nora@acme.example")
    await anna.get_by_label(PORTAL).check()
    await anna.get_by_role("button", name="Invite").click()
    await expect(
        anna.get_by_text(re.compile(r"^Nora New \(nora@acme.example\) is invited"))
    ).to_be_focused()
    # the invitation is mailed to Nora: the link is in her mail
    token = await maildir_link(server_maildir(server), "nora@acme.example", "invitation")
    link = f"{server.url.rstrip('/')}/#/invitation/{token}"

    nora_context = await people.browser.new_context(viewport=PHONE)
    people.contexts.append(nora_context)
    nora = await nora_context.new_page()
    await nora.goto(link)
    await expect(nora.get_by_role("heading", name="Accept your invitation")).to_be_visible()
    await nora.get_by_label("New password").fill("a long passphrase for the yard")
    await nora.get_by_role("button", name="Create my account").click()
    await expect(nora.get_by_role("link", name=PORTAL)).to_be_visible()
    assert "invitation" not in nora.url


async def _portal_id(server: Server) -> str:
    data = await call_api(server, "sam@provider.example", PROJECTS)
    return str(
        next(e["node"]["id"] for e in data["projects"]["edges"] if e["node"]["name"] == PORTAL)
    )


async def _post_as(server: Server, email: str, project: str, body: str) -> None:
    await call_api(server, email, POST, project=project, body=body)
