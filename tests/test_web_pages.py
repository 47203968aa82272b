"""A concept page in the web client, as its readers notice it: its discussion, restoring a
revision (asked first), the changes between revisions, the conflict panel on a phone, the
warning before unsaved text is lost, and where an inherited watch comes from. Each test
makes a page of its own through the API, so they do not depend on one another."""

from __future__ import annotations

import re
import secrets
from urllib.parse import quote

import pytest
from playwright.async_api import Page, expect

from tests.browser import (
    DESKTOP,
    PHONE,
    PORTAL,
    Api,
    Dialogs,
    People,
    Server,
    browser,
    client_behaviour,
    people,
    screenshot,
    web_build,
)

__all__ = ["browser", "people", "web_build"]  # fixtures this module's tests use

SAM = "sam@provider.example"
BODY = "# Driver app\n\nBooking in 2 taps.\n\nModules:\n- Booking\n- Billing\n"
PROJECTS = "{ projects(first: 20) { edges { node { id name } } } }"
CREATE_PAGE = """mutation ($project: ID!, $title: String!, $body: String!) {
  createPage(input: {projectId: $project, title: $title, body: $body}) { page { id } } }"""
UPDATE_PAGE = """mutation ($page: ID!, $base: Int!, $body: String!) {
  updatePage(input: {pageId: $page, baseRevision: $base, body: $body}) { page { revision } } }"""
COMMENT = """mutation ($project: ID!, $page: ID!, $body: String!) {
  postMicropost(input: {projectId: $project, pageId: $page, body: $body}) { micropost { id } } }"""


@pytest.fixture(scope="module")
def server(shared_server: Server) -> Server:
    return shared_server  # shared with the other modules that change only what they make


@pytest.fixture(scope="module")
def api(server: Server) -> Api:
    return Api(server)


async def portal_id(api: Api) -> str:
    edges = (await api(SAM, PROJECTS))["projects"]["edges"]
    return str(next(e["node"]["id"] for e in edges if e["node"]["name"] == PORTAL))


async def new_page(api: Api, body: str = BODY) -> tuple[str, str]:
    """A page of the portal project, made by Sam: its id and title."""
    title = f"Driver app {secrets.token_hex(3)}"
    project = await portal_id(api)
    created = await api(SAM, CREATE_PAGE, project=project, title=title, body=body)
    return str(created["createPage"]["page"]["id"]), title


async def open_page(page: Page, page_id: str, title: str) -> None:
    await page.goto(f"{page.url.split('#')[0]}#/pages/{quote(page_id, safe='')}")
    await expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()


@client_behaviour
async def test_a_conflict_on_a_phone_is_in_view_with_focus_on_it_and_the_summary_is_kept(
    people: People, api: Api
) -> None:
    # given: Anna, on a phone, edits a page and types a summary; Sam changes the same line
    page_id, title = await new_page(api)
    anna = await people.sign_in("anna@acme.example", PHONE)
    await open_page(anna, page_id, title)
    await expect(anna).to_have_title(f"{title} \N{EN DASH} {PORTAL} \N{EN DASH} Extranet")
    await anna.get_by_role("button", name="Edit page").click()
    await anna.get_by_label("Text (Markdown)").fill(BODY.replace("2 taps.", "2 taps, offline."))
    await anna.get_by_label("Summary of your change").fill("Offline booking")
    sams = BODY.replace("2 taps.", "two taps.")
    await api(SAM, UPDATE_PAGE, page=page_id, base=1, body=sams)

    # when: she saves
    await anna.get_by_role("button", name="Save").click()

    # then: the conflict panel is in view, focus on its heading; a short status is announced,
    # not the whole panel as an alert
    heading = anna.get_by_role("heading", name=re.compile("^Not saved"))
    await expect(heading).to_be_focused()
    await expect(heading).to_be_in_viewport()
    await expect(anna.locator("#announcer")).to_contain_text("Not saved")
    assert await anna.locator(".conflict[role=alert], .conflict [role=alert]").count() == 0
    await screenshot(anna, "page-conflict-phone")
    # and discarding her draft asks first: declined, the panel stays
    dialogs = Dialogs(anna)
    await anna.get_by_role("button", name="Discard my draft").click()
    await expect(heading).to_be_visible()
    assert await dialogs.shown(1) == [
        "Discard your draft? The edit that did not merge is lost; the page stays as it is."
    ]
    # and the only way to edit is from her draft, not from the server's text
    await expect(anna.get_by_role("button", name="Edit page")).to_have_count(0)
    await expect(anna.get_by_role("button", name="Edit again from revision 2")).to_be_visible()

    # when: she edits again, keeps her line and saves
    await anna.get_by_role("button", name="Edit again from revision 2").click()
    resolver = anna.get_by_role("form", name="Finish your draft on revision 2")
    await expect(resolver.get_by_role("heading", level=2)).to_be_focused()
    await resolver.get_by_role("radio", name="Keep yours").check()
    await resolver.get_by_role("button", name="Continue in the editor").click()

    # then: her summary is still there, and after saving focus is on the result
    await expect(anna.get_by_label("Summary of your change")).to_have_value("Offline booking")
    await anna.get_by_role("button", name="Save").click()
    outcome = anna.locator(".outcome .notice")
    await expect(outcome).to_contain_text("Saved as revision 3")
    await expect(outcome).to_be_focused()
    await expect(anna.locator("ol.revisions")).to_contain_text("Offline booking")


@client_behaviour
async def test_unsaved_text_in_the_page_editor_is_not_lost_without_asking(
    people: People, api: Api
) -> None:
    # given: Sam has typed into the editor
    page_id, title = await new_page(api)
    sam = await people.sign_in(SAM, DESKTOP)
    dialogs = Dialogs(sam)
    await open_page(sam, page_id, title)
    await sam.get_by_role("button", name="Edit page").click()
    text = sam.get_by_label("Text (Markdown)")
    await text.fill(BODY + "- Reports\n")

    # when: he goes to another view and, asked, stays
    dialogs.answers = [False]
    await sam.get_by_role("link", name="Projects", exact=True).first.click()
    # then: he is still editing, with his text
    assert len(await dialogs.shown(1)) == 1
    await expect(text).to_have_value(BODY + "- Reports\n")

    # when: he cancels and, asked, keeps editing; then cancels again and agrees
    dialogs.answers = [False]
    await sam.get_by_role("button", name="Cancel").click()
    await expect(text).to_have_value(BODY + "- Reports\n")
    dialogs.answers = [True]
    await sam.get_by_role("button", name="Cancel").click()

    # then: the editor is closed, the page unchanged, and focus on "Edit page"
    assert len(await dialogs.shown(3)) == 3
    await expect(text).to_have_count(0)
    await expect(sam.get_by_role("button", name="Edit page")).to_be_focused()
    await expect(sam.locator(".page-body")).not_to_contain_text("Reports")

    # and an editor opened and left untouched closes without asking, with Escape too
    await sam.get_by_role("button", name="Edit page").click()
    await sam.get_by_role("button", name="Cancel").click()
    await expect(sam.get_by_role("button", name="Edit page")).to_be_focused()
    await sam.get_by_role("button", name="Edit page").click()
    await expect(text).to_be_focused()
    await text.press("Escape")
    await expect(sam.get_by_role("button", name="Edit page")).to_be_focused()
    assert len(dialogs.messages) == 3


@client_behaviour
async def test_a_page_shows_its_comments_and_takes_new_ones(people: People, api: Api) -> None:
    # given: a page with one comment by Sam
    page_id, title = await new_page(api)
    project = await portal_id(api)
    await api(SAM, COMMENT, project=project, page=page_id, body="Is **billing** in?")
    max_ = await people.sign_in("max@acme.example", PHONE)
    await open_page(max_, page_id, title)

    # then: Max reads it on the page
    discussion = max_.get_by_role("region", name=re.compile("^Discussion"))
    await expect(discussion.get_by_role("listitem")).to_have_count(1)
    await expect(discussion).to_contain_text("Sam Account-Manager")
    await expect(discussion.locator("strong", has_text="billing")).to_be_visible()

    # the limit counts characters as the server does (an emoji is one)
    box = max_.get_by_label("Your comment (Markdown)")
    await box.fill("🚚" * 5000)
    await expect(discussion.get_by_text("0 of 5,000 characters left")).to_be_visible()
    assert await box.evaluate("e => e.checkValidity()")
    await box.fill("🚚" * 5001)
    assert not await box.evaluate("e => e.checkValidity()")

    # when: he writes one, posting with Ctrl+Enter
    await box.fill("Yes, from the start.")
    await box.press("Control+Enter")

    # then: it is added, focus on it, and the box is empty again
    mine = discussion.get_by_role("listitem").filter(has_text="Yes, from the start.")
    await expect(mine).to_be_focused()
    await expect(box).to_have_value("")
    await expect(discussion.get_by_text("5,000 of 5,000 characters left")).to_be_visible()
    await expect(max_.get_by_test_id("comment-count")).to_have_text("(2 comments)")

    # when: Sam comments meanwhile, it appears without a reload
    await api(SAM, COMMENT, project=project, page=page_id, body="Great, thanks.")
    await expect(discussion.get_by_role("listitem")).to_have_count(3)
    await expect(discussion.get_by_role("listitem").last).to_contain_text("Great, thanks.")
    await screenshot(max_, "page-comments-phone")


@client_behaviour
async def test_changes_are_brought_into_view_and_restoring_a_revision_asks_first(
    people: People, api: Api
) -> None:
    # given: a page at revision 2
    page_id, title = await new_page(api)
    await api(SAM, UPDATE_PAGE, page=page_id, base=1, body=BODY.replace("2 taps", "one tap"))
    sam = await people.sign_in(SAM, PHONE)
    dialogs = Dialogs(sam)
    await open_page(sam, page_id, title)

    # when: Sam asks for the changes in revision 2
    await sam.get_by_role("button", name="Changes in revision 2").click()

    # then: focus moves to them, in view, and they are not read out as a live region
    caption = sam.locator("figure.diff figcaption")
    await expect(caption).to_have_text("Changes from revision 1 to revision 2")
    await expect(caption).to_be_focused()
    await expect(caption).to_be_in_viewport()
    live = "[aria-live]:not([aria-live=off]) figure.diff, [role=status] figure.diff"
    assert await sam.locator(live).count() == 0

    # when: he asks to restore revision 1 and, asked, declines
    dialogs.answers = [False]
    await sam.get_by_role("button", name="Restore revision 1").click()
    # then: nothing changed
    assert len(await dialogs.shown(1)) == 1
    await expect(sam.get_by_test_id("page-revision")).to_have_text("Revision 2")
    assert "Restore revision 1?" in dialogs.messages[0]

    # when: he restores it, agreeing
    dialogs.answers = [True]
    await sam.get_by_role("button", name="Restore revision 1").click()

    # then: the text of revision 1 is back, as revision 3, and focus is on the result
    outcome = sam.locator(".outcome .notice")
    await expect(outcome).to_contain_text("Revision 1 restored as revision 3")
    await expect(outcome).to_be_focused()
    await expect(sam.locator(".page-body")).to_contain_text("Booking in 2 taps.")
    await expect(sam.get_by_test_id("page-revision")).to_have_text("Revision 3")


@client_behaviour
async def test_an_inherited_watch_says_where_it_comes_from_and_unwatch_offers_what_works(
    people: People, api: Api
) -> None:
    # given: Anna watches the customer Acme, so every page of its projects
    page_id, title = await new_page(api)
    anna = await people.sign_in("anna@acme.example", DESKTOP)
    await open_page(anna, page_id, title)
    follow = anna.get_by_role("region", name="Follow this page")
    await expect(follow.get_by_test_id("watch-level")).to_have_text("Watching")
    await expect(follow.get_by_test_id("watch-source")).to_contain_text(
        "from your watch on the customer “Acme Logistics”"
    )

    # when: she unwatches the page
    await follow.get_by_role("button", name="Unwatch").click()

    # then: she is told why that alone cannot work, and offered what does
    explanation = follow.locator(".watch-message .notice")
    await expect(explanation).to_be_focused()
    await expect(explanation).to_contain_text("you watch the customer “Acme Logistics”")
    await expect(
        follow.get_by_role("button", name="Unwatch the customer “Acme Logistics”")
    ).to_be_visible()
    await screenshot(anna, "watch-inherited-desktop")

    # when: she mutes the page
    await follow.get_by_role("button", name="Mute this page").click()

    # then: the page is muted by her own watch, and she is told so
    await expect(follow.get_by_test_id("watch-level")).to_have_text("Muted")
    await expect(follow.get_by_test_id("watch-source")).to_contain_text("your own watch")
    await expect(follow.locator(".watch-message .notice")).to_contain_text("This page is muted")

    # when: she unwatches it now, her own watch goes and the inherited one applies again
    await follow.get_by_role("button", name="Unwatch", exact=True).click()
    await expect(follow.get_by_test_id("watch-level")).to_have_text("Watching")
    await expect(follow.locator(".watch-message .notice")).to_contain_text(
        "You no longer watch this page yourself"
    )
