"""The web client's account pages, end to end against a demo server that mails into a
Maildir: a contact who forgot their password asks for a link from the sign-in page, opens
it from the mail and signs in with the new password; on the account page a contact edits
their profile and changes their password."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser import (
    DESKTOP,
    PHONE,
    Server,
    browser,
    call_api,
    client_behaviour,
    web_build,
)
from tests.mailed import maildir_link, server_maildir

__all__ = ["browser", "web_build"]  # fixtures this module's tests use

CUSTOMERS = "{ customers { edges { node { id name } } } }"
INVITE = """mutation ($customer: ID!, $address: String!) {
  inviteContact(input: {customerId: $customer, email: $address, name: "Rita Reset"}) {
    invitation { id } } }"""
ACCEPT = """mutation ($token: String!, $password: String!) {
  acceptInvitation(input: {token: $token, password: $password}) { accessToken } }"""
FIRST_PASSWORD = "the first long passphrase 1"
NEW_PASSWORD = "the second long passphrase 2"

# the server's side of these is tested on both databases by the API tests
pytestmark = client_behaviour


@pytest.fixture(scope="module")
def server(shared_server: Server) -> Server:
    return shared_server  # shared with the other modules that change only what they make


async def _new_contact(server: Server) -> str:
    """A new contact of Acme (invited and accepted through the API): their address."""
    address = f"rita.{secrets.token_hex(3)}@acme.example"
    customers = (await call_api(server, "sam@provider.example", CUSTOMERS))["customers"]
    acme = next(
        e["node"]["id"] for e in customers["edges"] if e["node"]["name"] == "Acme Logistics"
    )
    await call_api(server, "sam@provider.example", INVITE, customer=acme, address=address)
    token = await maildir_link(server_maildir(server), address, "invitation")
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        answer = await http.post(
            "graphql",
            json={"query": ACCEPT, "variables": {"token": token, "password": FIRST_PASSWORD}},
        )
    assert "errors" not in answer.json(), answer.json()
    return address


async def _open(browser: Browser, server: Server, errors: list[str], **options: Any) -> Page:
    context = await browser.new_context(**options)
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(server.url)
    return page


async def _sign_in(page: Page, address: str, password: str) -> None:
    await page.get_by_label("Email").fill(address)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Projects", level=1)).to_be_visible()


async def test_a_forgotten_password_is_set_again_from_the_mailed_link(
    browser: Browser, server: Server
) -> None:
    errors: list[str] = []
    address = await _new_contact(server)
    page = await _open(browser, server, errors, viewport=PHONE)
    try:
        # when Rita asks for a link from the sign-in page
        await page.get_by_role("link", name="Forgot your password?").click()
        await expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
        await expect(page.get_by_label("Email")).to_be_focused()
        await page.get_by_label("Email").fill(address)
        await page.get_by_role("button", name="Mail me a link").click()
        # then she is told it is on its way, whether or not the address has an account
        sent = page.get_by_role("status")
        await expect(sent).to_contain_text("is on its way")
        await expect(sent).to_be_focused()
        # when she opens the link from the mail, and chooses a too short, then a good password
        token = await maildir_link(server_maildir(server), address, "reset-password")
        await page.goto(f"{server.url.rstrip('/')}/#/reset-password/{token}")
        await expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
        await page.get_by_label("New password", exact=True).fill("short")
        await page.get_by_role("button", name="Set my password").click()
        await expect(page.get_by_role("alert")).to_contain_text("too short")
        await expect(page.get_by_label("New password", exact=True)).to_be_focused()
        await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        await page.get_by_role("button", name="Set my password").click()
        # then she signs in with the new password, and the link is gone from the address bar
        await expect(page.get_by_text("Your new password is set")).to_be_visible()
        assert "reset-password" not in page.url
        await _sign_in(page, address, NEW_PASSWORD)
    finally:
        await page.context.close()
    assert errors == []


async def test_the_account_page_edits_the_profile_and_changes_the_password(
    browser: Browser, server: Server
) -> None:
    errors: list[str] = []
    address = await _new_contact(server)
    page = await _open(browser, server, errors, viewport=DESKTOP)
    try:
        await _sign_in(page, address, FIRST_PASSWORD)
        await (
            page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
        )
        await expect(page.get_by_role("heading", name="Your account", level=1)).to_be_focused()
        # the profile: a bad time zone is named, a good one saved
        profile = page.get_by_role("form", name="Profile")
        await profile.get_by_label("Display name").fill("Rita Reset-Muster")
        await profile.get_by_label("Time zone").fill("Mars/Olympus")
        await profile.get_by_role("button", name="Save profile").click()
        await expect(profile.get_by_role("alert")).to_contain_text("not a time zone")
        await expect(profile.get_by_label("Time zone")).to_be_focused()
        await profile.get_by_label("Time zone").fill("Europe/Zurich")
        await profile.get_by_label("Language").fill("de_ch")
        await profile.get_by_role("button", name="Save profile").click()
        await expect(profile.get_by_role("status")).to_have_text("Your profile is saved.")
        await expect(profile.get_by_label("Language")).to_have_value("de-CH")
        # the password
        form = page.get_by_role("form", name="Change your password")
        await form.get_by_label("Current password").fill("not the password at all")
        await form.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        await form.get_by_role("button", name="Change password").click()
        await expect(form.get_by_role("alert")).to_contain_text("current password is wrong")
        await expect(form.get_by_label("Current password")).to_be_focused()
        await form.get_by_label("Current password").fill(FIRST_PASSWORD)
        await form.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        await form.get_by_role("button", name="Change password").click()
        await expect(form.get_by_role("status")).to_contain_text("Your password is changed")
        # and after a reload the profile is as saved, and the session went on
        await page.reload()
        await expect(page.get_by_label("Time zone")).to_have_value("Europe/Zurich")
        await expect(
            page.get_by_text(re.compile(f"You sign in as {re.escape(address)}"))
        ).to_be_visible()
    finally:
        await page.context.close()
    assert errors == []
