"""The web client (clients/web) end to end, in a real headless Chromium: Debian's
``chromium`` driven by Playwright (never a browser Playwright downloads), against
``extranet serve`` started here on a spare loopback port with the demo data.

* Sam (staff, a desktop screen) and Anna (Acme's lead contact, a phone-sized screen) open
  the same project; Sam posts, edits his post and changes the status; Anna sees all of it
  appear live, without a reload. Gina (a contact of another customer) sees none of it: the
  project is not in her list, and its URL answers "not found".
* A concept page: each sees the other on it, an edit begun on an older revision merges, an
  overlapping one shows the conflict with both sides, and the history shows a diff. Editing
  again after a conflict (at once, or later from the draft) starts from the draft merged
  with the current revision: what others changed elsewhere is kept, and each conflicting
  hunk is a labelled group of radio buttons to choose from.
* The connection drops (the server restarts): the client says "Reconnecting…", and a post
  made while it was away appears once it is back, resumed from its last cursor.
* The access token runs out (a server with the shortest lifetime, 30 s): the server closes
  the socket, and the client renews the token with ``refreshSession`` and carries on.
* Two-factor sign-in: set up at the first sign-in where an administrator requires it, then
  a code (here a recovery code) as the second step.

Screenshots of the main screens (sign-in, project timeline, concept page, conflict,
reconnecting; phone-sized and desktop) are saved as artefacts in ``var/screenshots/``
(gitignored), replaced on every run.

The web client is built first (``make web``) when it is missing or stale. Without
``chromium``, Node.js or npm the tests are skipped; under ``CI=true`` they fail instead.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from playwright.async_api import (
    Browser,
    Route,
    expect,
)

from domain import totp
from graphql_schema.relay import global_id
from tests.browser import (
    DESKTOP,
    PAGE,
    PASSWORD,
    PHONE,
    PORTAL,
    People,
    Server,
    browser,
    call_api,
    demo_server,
    open_project,
    people,
    screenshot,
    unread,
    web_build,
)

__all__ = ["browser", "people", "web_build"]  # fixtures this module's tests use


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    async with demo_server(tmp_path_factory.mktemp("web-client")) as running:
        yield running


async def test_two_people_follow_a_project_live_and_another_customer_sees_none_of_it(
    people: People,
) -> None:
    # given: Sam (staff) on a desktop and Anna (Acme's lead contact) on a phone, one project
    sam = await people.sign_in("sam@provider.example", DESKTOP, shot="login-desktop")
    anna = await people.sign_in("anna@acme.example", PHONE, shot="login-phone")
    project_url = await open_project(sam)
    await open_project(anna)
    await anna.evaluate("window.notReloaded = true")
    unread_before = await unread(anna)

    # when: Sam posts, mentioning Anna, and puts the project on hold
    await sam.get_by_label("New post").fill("Yard test plan is ready, @anna: see #yard-tests")
    await sam.get_by_role("button", name="Post", exact=True).click()
    await sam.get_by_label("New status").select_option("ON_HOLD")
    await sam.get_by_label("Reason").fill("Waiting for the pilot result")
    await sam.get_by_role("button", name="Change status").click()

    # then: Anna sees both appear, and her unread count goes up
    post = anna.locator("article.post", has_text="Yard test plan is ready")
    await expect(post).to_be_visible()
    await expect(post.locator(".post-body")).to_contain_text("@anna: see #yard-tests")
    await expect(anna.locator("#project-status")).to_have_text("On hold")
    await expect(anna.locator("li.activity").first).to_contain_text("Waiting for the pilot result")
    await expect(anna.get_by_test_id("unread-count")).not_to_have_attribute(
        "data-count", str(unread_before)
    )
    assert await unread(anna) > unread_before

    # when: Sam edits his post
    await (
        sam.locator("article.post", has_text="Yard test plan is ready")
        .get_by_role("button", name="Edit")
        .click()
    )
    await sam.get_by_label("Edit your post").fill("Yard test plan v2 is ready, @anna #yard-tests")
    await sam.get_by_role("button", name="Save").click()

    # then: the edit reaches Anna too, still without a reload
    edited = anna.locator("article.post", has_text="Yard test plan v2 is ready")
    await expect(edited).to_be_visible()
    await expect(edited).to_contain_text("(edited)")
    assert await anna.evaluate("window.notReloaded") is True
    await screenshot(sam, "project-desktop")
    await screenshot(anna, "project-phone")

    # and Gina, of another customer, sees none of it
    gina = await people.sign_in("gina@globex.example", DESKTOP)
    await expect(gina.get_by_role("link", name="Loyalty app")).to_be_visible()
    await expect(gina.get_by_text(PORTAL)).to_have_count(0)
    await expect(gina.get_by_text("Acme")).to_have_count(0)
    await gina.goto(project_url)
    await expect(gina.get_by_role("heading", name="Project not found")).to_be_visible()
    await gina.get_by_role("link", name=re.compile(r"^Inbox")).click()
    await expect(gina.get_by_role("heading", name="Inbox")).to_be_visible()
    await expect(gina.locator("main p.muted").first).not_to_be_empty()
    text = await gina.locator("body").inner_text()
    assert "Yard test plan" not in text
    assert PORTAL not in text


async def test_a_post_from_the_terminal_client_appears_live_in_the_browser(
    people: People, server: Server, tmp_path: Path
) -> None:
    # given: Anna follows the project in her browser
    anna = await people.sign_in("anna@acme.example", DESKTOP)
    await open_project(anna)
    await anna.evaluate("window.notReloaded = true")
    # when: Max posts to it from a terminal with extranet-client
    client = str(Path(sys.executable).parent / "extranet-client")
    env = {**server.env, "XDG_CONFIG_HOME": str(tmp_path), "EXTRANET_SERVER": server.url}
    for args, stdin in (
        (["login"], f"max@acme.example\n{PASSWORD}\n"),
        (["post", PORTAL, "Pallet labels printed, from my terminal #yard-tests"], ""),
    ):
        done = await asyncio.to_thread(
            subprocess.run,
            [client, *args],
            input=stdin,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    # then: it appears in Anna's timeline without a reload
    post = anna.locator("article.post", has_text="Pallet labels printed, from my terminal")
    await expect(post).to_be_visible()
    await expect(post).to_contain_text("Max")
    assert await anna.evaluate("window.notReloaded") is True


async def test_an_answer_that_comes_late_does_not_replace_where_the_reader_went(
    browser: Browser, server: Server
) -> None:
    # given: the list of projects answers slowly (a busy server, a slow network)
    context = await browser.new_context(viewport=DESKTOP)
    try:
        page = await context.new_page()

        async def slow_home(route: Route) -> None:
            if "query Home" in (route.request.post_data or ""):
                await asyncio.sleep(2)
            await route.continue_()

        await page.route("**/graphql", slow_home)
        await page.goto(server.url)
        await page.get_by_label("Email").fill("gina@globex.example")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="Projects", level=1)).to_be_visible()
        # when: Gina follows a link to a page before the list has come
        await page.goto(f"{server.url}#/pages/{quote(global_id('Page', 1))}")
        await expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
        # then: the list that comes afterwards does not take the page's place
        await page.wait_for_timeout(2500)
        await expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
        await expect(page.get_by_role("heading", name="Projects", level=1)).to_have_count(0)
    finally:
        await context.close()


async def test_a_concept_page_shows_who_is_there_merges_edits_and_shows_conflicts(
    people: People,
) -> None:
    # given: Sam and Anna on the same concept page
    sam = await people.sign_in("sam@provider.example", DESKTOP)
    anna = await people.sign_in("anna@acme.example", PHONE)
    for person in (sam, anna):
        await open_project(person)
        await person.get_by_role("link", name=PAGE).click()
        await expect(person.get_by_role("heading", name=PAGE, level=1)).to_be_visible()

    # then: each sees the other on it
    await expect(anna.locator("ul.presence")).to_contain_text("Sam Account-Manager")
    await expect(sam.locator("ul.presence")).to_contain_text("Anna Lead (Acme)")

    # when: Anna starts editing, and Sam saves a change to another line meanwhile
    await anna.get_by_role("button", name="Edit page").click()
    await expect(anna.get_by_test_id("base-revision")).to_have_text("Editing from revision 1.")
    await expect(sam.locator("ul.presence li", has_text="Anna Lead (Acme)")).to_contain_text(
        "editing"
    )
    await sam.get_by_role("button", name="Edit page").click()
    sam_text = sam.get_by_label("Text (Markdown)")
    await sam_text.fill(
        (await sam_text.input_value()).replace(
            "offline in the yard", "offline in the yard and depot"
        )
    )
    await sam.get_by_label("Summary of your change").fill("The depot too")
    await sam.get_by_role("button", name="Save").click()
    await expect(sam.locator(".outcome")).to_contain_text("Saved as revision 2")
    await expect(anna.get_by_text("saved revision 2 while you were editing")).to_be_visible()
    anna_text = anna.get_by_label("Text (Markdown)")
    await anna_text.fill(
        (await anna_text.input_value()).replace("## Goals", "## Goals of the pilot")
    )
    await anna.get_by_role("button", name="Save").click()

    # then: Anna's edit of revision 1 is merged with Sam's, and Sam sees the result live
    await expect(anna.locator(".outcome")).to_contain_text("Merged")
    await expect(anna.locator(".outcome")).to_contain_text("revision 3")
    for person in (anna, sam):
        await expect(person.locator(".page-body")).to_contain_text("Goals of the pilot")
        await expect(person.locator(".page-body")).to_contain_text("the yard and depot")

    # when: both change the same line; Anna saves first
    await sam.get_by_role("button", name="Edit page").click()
    await anna.get_by_role("button", name="Edit page").click()
    await anna_text.fill((await anna_text.input_value()).replace("three taps", "two taps"))
    await anna.get_by_role("button", name="Save").click()
    await expect(anna.locator(".outcome")).to_contain_text("Saved as revision 4")
    await sam_text.fill((await sam_text.input_value()).replace("three taps", "one tap"))
    await sam.get_by_role("button", name="Save").click()

    # then: Sam is shown the conflict, with both sides and where he began
    conflict = sam.locator(".conflict")
    await expect(conflict).to_contain_text("Not saved")
    await expect(conflict.locator(".side.base")).to_contain_text("three taps")
    await expect(conflict.locator(".side.current")).to_contain_text("two taps")
    await expect(conflict.locator(".side.yours")).to_contain_text("one tap")
    await screenshot(sam, "page-conflict-desktop")

    # when: he edits again from the current revision, keeping his side of the line
    await conflict.get_by_role("button", name="Edit again from revision 4").click()
    resolver = sam.get_by_role("form", name="Finish your draft on revision 4")
    choice = resolver.get_by_role("group", name=re.compile(r"^Text, from line"))
    await expect(choice.get_by_role("radio")).to_have_count(3)
    await choice.get_by_role("radio", name="Keep yours").check()
    await resolver.get_by_role("button", name="Continue in the editor").click()
    await expect(sam.get_by_test_id("base-revision")).to_have_text("Editing from revision 4.")
    await expect(sam_text).to_have_value(re.compile("one tap"))
    await sam_text.fill((await sam_text.input_value()).replace("one tap", "two taps or one"))
    await sam.get_by_role("button", name="Save").click()
    await expect(sam.locator(".outcome")).to_contain_text("Saved as revision 5")

    # then: the history shows what each revision changed
    await expect(anna.locator(".page-body")).to_contain_text("two taps or one")
    await anna.get_by_role("button", name="Changes in revision 2").click()
    diff = anna.locator("figure.diff")
    await expect(diff).to_contain_text("revision 1 to revision 2")
    await expect(diff.locator("ins")).to_contain_text("offline in the yard and depot")
    await expect(diff.locator("del")).to_contain_text("offline in the yard")
    await screenshot(anna, "page-phone")
    await screenshot(sam, "page-desktop")

    # and Gina cannot open the page by its URL
    gina = await people.sign_in("gina@globex.example", PHONE)
    await gina.goto(sam.url)
    await expect(gina.get_by_role("heading", name="Page not found")).to_be_visible()
    assert "Goals" not in await gina.locator("body").inner_text()


LOGIN = """mutation ($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken } }"""
POST = """mutation ($project: ID!, $body: String!) {
  postMicropost(input: {projectId: $project, body: $body}) { micropost { id } } }"""
SESSION_TOKEN = "JSON.parse(sessionStorage.getItem('extranet.session')).accessToken"
CUSTOMERS = "{ customers { edges { node { id name } } } }"
REMOVE_CONTACT = """mutation ($user: ID!) {
  removeContact(input: {userId: $user}) { contact { id } } }"""
CREATE_PAGE = """mutation ($project: ID!, $title: String!, $body: String!) {
  createPage(input: {projectId: $project, title: $title, body: $body}) { page { id } } }"""
UPDATE_PAGE = """mutation ($page: ID!, $base: Int!, $body: String!) {
  updatePage(input: {pageId: $page, baseRevision: $base, body: $body}) { page { revision } } }"""
PROJECTS = "{ projects(first: 20) { edges { node { id name } } } }"
DRIVER_APP = "# Driver app\n\nBooking in 2 taps.\n\nModules:\n- Booking\n- Billing\n- Reports\n"
REQUIRE_MFA = """mutation ($customer: ID!) {
  setMfaRequirement(input: {required: true, customerId: $customer}) { customer { name } } }"""


async def test_after_a_dropped_connection_the_timeline_resumes_from_its_cursor(
    people: People, server: Server
) -> None:
    # given: Anna follows the project
    anna = await people.sign_in("anna@acme.example", PHONE)
    url = await open_project(anna)
    project_id = unquote(url.rsplit("/", 1)[1])
    await anna.evaluate("window.notReloaded = true")

    # when: the server goes away, the client says so
    await server.stop()
    await expect(anna.get_by_test_id("connection")).to_have_text("Reconnecting…")
    await screenshot(anna, "reconnecting-phone")

    # and Sam posts while Anna's browser cannot reach the server yet
    await anna.context.set_offline(True)
    await server.start()
    await call_api(
        server, "sam@provider.example", POST, project=project_id, body="Posted while Anna was away"
    )
    await anna.wait_for_timeout(1000)
    assert await anna.get_by_text("Posted while Anna was away").count() == 0

    # then: once she is back, the post is replayed from her cursor, without a reload
    await anna.context.set_offline(False)
    await expect(anna.locator("article.post", has_text="Posted while Anna was away")).to_be_visible(
        timeout=30_000
    )
    await expect(anna.get_by_test_id("connection")).to_have_text("Live")
    assert await anna.locator("article.post", has_text="Posted while Anna was away").count() == 1
    assert await anna.evaluate("window.notReloaded") is True


async def test_when_the_access_token_runs_out_it_is_renewed_and_the_timeline_carries_on(
    browser: Browser, tmp_path: Path
) -> None:
    async with demo_server(tmp_path, EXTRANET_ACCESS_TOKEN_TTL="30") as short:
        crowd = People(browser, short)
        try:
            # given: Anna follows the project on a server whose access tokens last 30 s
            anna = await crowd.sign_in("anna@acme.example", PHONE)
            url = await open_project(anna)
            project_id = unquote(url.rsplit("/", 1)[1])
            await anna.evaluate("window.notReloaded = true")
            first_token = await anna.evaluate(SESSION_TOKEN)

            # when: the token runs out, the server closes her socket (4403), and her client
            # renews the token to connect again
            for _ in range(90):  # the page's CSP allows no wait_for_function (it evaluates)
                if await anna.evaluate(SESSION_TOKEN) != first_token:
                    break
                await asyncio.sleep(0.5)
            else:
                raise AssertionError("the access token was not renewed within 45 s")
            assert crowd.sockets_closed["anna@acme.example"] >= 1
            await call_api(
                short, "sam@provider.example", POST, project=project_id, body="Still here"
            )

            # then: her client renews the token, reconnects, and the post reaches her
            post = anna.locator("article.post", has_text="Still here")
            await expect(post).to_be_visible(timeout=30_000)
            await expect(anna.get_by_test_id("connection")).to_have_text("Live")
            assert await anna.evaluate("window.notReloaded") is True
            # and her requests over HTTP go on working
            await anna.get_by_role("link", name=re.compile(r"^Inbox")).click()
            await expect(anna.get_by_role("heading", name="Inbox")).to_be_visible()
            await expect(anna.locator(".notification").first).to_be_visible()
            await expect(anna.get_by_role("alert")).to_have_count(0)
        finally:
            await crowd.close()
        assert crowd.errors == []


async def test_a_removed_contacts_open_app_goes_back_to_the_sign_in_form(
    browser: Browser, tmp_path: Path
) -> None:
    async with demo_server(tmp_path) as own:
        crowd = People(browser, own)
        try:
            # given: Max follows the project on his phone
            max_ = await crowd.sign_in("max@acme.example", PHONE)
            await open_project(max_)
            max_id = (await call_api(own, "max@acme.example", "{ me { id } }"))["me"]["id"]
            # when: Anna, Acme's lead contact, removes him
            await call_api(own, "anna@acme.example", REMOVE_CONTACT, user=max_id)
            # then: his socket is closed, his session cannot be renewed, and his app shows
            # the sign-in form, without a reload
            await expect(max_.get_by_role("button", name="Sign in")).to_be_visible()
            await expect(max_.get_by_text("Your session has ended")).to_be_visible()
            assert crowd.sockets_closed["max@acme.example"] >= 1
        finally:
            await crowd.close()
        assert crowd.errors == []


async def test_two_factor_sign_in_is_set_up_when_required_and_then_asked_for(
    people: People, server: Server
) -> None:
    # given: the administrator requires two-factor sign-in of Globex's contacts
    customers = (await call_api(server, "admin@provider.example", CUSTOMERS))["customers"]["edges"]
    [globex] = [c["node"]["id"] for c in customers if c["node"]["name"] == "Globex Retail"]
    await call_api(server, "admin@provider.example", REQUIRE_MFA, customer=globex)
    context = await people.browser.new_context(viewport=PHONE)
    people.contexts.append(context)
    gina = await context.new_page()
    gina.on("pageerror", lambda error: people.errors.append(f"gina: {error}"))
    await gina.goto(server.url)

    # when: Gina signs in with her password, she is asked to set it up first
    await gina.get_by_label("Email").fill("gina@globex.example")
    await gina.get_by_label("Password").fill(PASSWORD)
    await gina.get_by_role("button", name="Sign in").click()
    secret = await gina.get_by_test_id("totp-secret").inner_text()
    await gina.get_by_label("Code from your authenticator app").fill(totp.current_code(secret))
    await screenshot(gina, "two-factor-setup-phone")
    await gina.get_by_role("button", name="Turn it on and sign in").click()

    # then: she gets her recovery codes once, and is signed in
    codes = (await gina.get_by_test_id("recovery-codes").inner_text()).split()
    assert len(codes) >= 5
    await gina.get_by_role("button", name="I have kept them: continue").click()
    await expect(gina.get_by_role("link", name="Loyalty app")).to_be_visible()

    # when: she signs in again, the password is not enough: a code (here a recovery code) is
    await gina.get_by_role("button", name="Sign out").click()
    await gina.get_by_label("Email").fill("gina@globex.example")
    await gina.get_by_label("Password").fill(PASSWORD)
    await gina.get_by_role("button", name="Sign in").click()
    await gina.get_by_label("Code from your authenticator app").fill("000000")
    await gina.get_by_role("button", name="Continue").click()
    await expect(gina.get_by_role("alert")).to_be_visible()
    await gina.get_by_label("Code from your authenticator app").fill(codes[0])
    await gina.get_by_role("button", name="Continue").click()

    # then
    await expect(gina.get_by_role("link", name="Loyalty app")).to_be_visible()


async def test_editing_again_after_a_conflict_keeps_what_others_changed_elsewhere(
    people: People, server: Server
) -> None:
    # given: a page at revision 1 that max opens and edits in the browser ("2 taps" line)
    edges = (await call_api(server, "sam@provider.example", PROJECTS))["projects"]["edges"]
    portal = next(e["node"]["id"] for e in edges if e["node"]["name"] == PORTAL)
    title = f"Driver app {secrets.token_hex(3)}"
    created = await call_api(
        server, "sam@provider.example", CREATE_PAGE, project=portal, title=title, body=DRIVER_APP
    )
    page_id = created["createPage"]["page"]["id"]
    max_ = await people.sign_in("max@acme.example", DESKTOP)
    await max_.goto(f"{max_.url.split('#')[0]}#/pages/{quote(page_id, safe='')}")
    await expect(max_.get_by_role("heading", name=title, level=1)).to_be_visible()
    await max_.get_by_role("button", name="Edit page").click()
    text = max_.get_by_label("Text (Markdown)")
    await text.fill(DRIVER_APP.replace("2 taps.", "2 taps, offline too."))
    # when: sam saves revision 2 changing the same line and "- Billing", then max saves
    sams = DRIVER_APP.replace("2 taps.", "two taps.").replace(
        "- Billing", "- Billing and invoicing"
    )
    await call_api(server, "sam@provider.example", UPDATE_PAGE, page=page_id, base=1, body=sams)
    await max_.get_by_role("button", name="Save").click()
    await expect(max_.locator(".conflict")).to_contain_text("Not saved")
    # and max comes back later, to his draft
    await max_.reload()
    await max_.get_by_role("button", name="Continue with my draft").click()
    # then: only the shared line is his to choose, as a labelled group of radio buttons
    resolver = max_.get_by_role("form", name="Finish your draft on revision 2")
    await expect(resolver.locator("fieldset")).to_have_count(1)
    choice = resolver.get_by_role("group", name="Text, from line 3 of revision 1 (conflict 1 of 1)")
    await expect(choice.get_by_role("radio", name="Keep yours")).to_have_accessible_description(
        "Booking in 2 taps, offline too."
    )
    await expect(
        choice.get_by_role("radio", name="Keep the text now, in revision 2")
    ).to_have_accessible_description("Booking in two taps.")
    await screenshot(max_, "page-resolver-desktop")
    # a choice is required before going on
    await resolver.get_by_role("button", name="Continue in the editor").click()
    await expect(max_.get_by_test_id("base-revision")).to_have_count(0)
    await choice.get_by_role("radio", name="Keep yours").check()
    await resolver.get_by_role("button", name="Continue in the editor").click()
    # then: the editor starts from revision 2 with his line and sam's "Billing and invoicing"
    await expect(max_.get_by_test_id("base-revision")).to_have_text("Editing from revision 2.")
    merged = DRIVER_APP.replace("2 taps.", "2 taps, offline too.").replace(
        "- Billing", "- Billing and invoicing"
    )
    await expect(text).to_have_value(merged)
    await max_.get_by_role("button", name="Save").click()
    await expect(max_.locator(".outcome")).to_contain_text("Saved as revision 3")
    await expect(max_.locator(".page-body")).to_contain_text("Billing and invoicing")
    await expect(max_.locator(".page-body")).to_contain_text("2 taps, offline too.")
