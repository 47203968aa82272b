"""The web client's integrations page, end to end: an administrator creates a personal
access token, sees it once (focused, with a copy button), then only its name and prefix;
and sees a webhook endpoint's delivery to a receiver on 127.0.0.1 in its delivery log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

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
from tests.live import until

__all__ = ["browser", "people", "web_build"]  # fixtures this module's tests use

ADMIN = "admin@provider.example"
SAM = "sam@provider.example"


@pytest.fixture(scope="module")
def server(shared_server: Server) -> Server:
    return shared_server  # shared with the other modules that change only what they make


@pytest.fixture
async def receiver() -> AsyncIterator[str]:
    """A webhook receiver on 127.0.0.1 that answers 200 "thanks": its URL."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n")
             if line.lower().startswith(b"content-length:")),
            0,
        )  # fmt: skip
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nthanks")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    async with server:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook"


@client_behaviour
async def test_a_token_is_shown_once_and_a_delivery_is_in_the_log(
    people: People, server: Server, receiver: str
) -> None:
    admin = await people.sign_in(ADMIN, DESKTOP)
    await admin.get_by_role("link", name="Integrations").click()
    await expect(admin.get_by_role("heading", name="Integrations", level=1)).to_be_visible()
    new = admin.get_by_role("form", name="New personal token")
    await new.get_by_label("Name").fill("Quarterly report")
    await new.get_by_label("Projects and timelines").select_option("read")
    await new.get_by_role("button", name="Create token").click()

    shown = admin.get_by_test_id("new-token")
    await expect(shown).to_be_focused()
    token = await shown.input_value()
    assert token.startswith("xnt_pat_")
    await expect(admin.get_by_test_id("token-reveal")).to_contain_text("shown only this once")
    await expect(admin.get_by_role("button", name="Copy token")).to_be_visible()
    await admin.get_by_role("button", name="I have stored it").click()
    await expect(admin.get_by_test_id("token-reveal")).to_have_count(0)
    # the shared server's other tests may have listed tokens of this administrator too
    listed = (
        admin.get_by_role("list", name="Your personal access tokens")
        .get_by_test_id("token")
        .filter(has_text="Quarterly report")
    )
    await expect(listed).to_contain_text("Quarterly report")
    await expect(listed).to_contain_text(token[:12])
    await expect(listed).to_contain_text("projects:read")
    assert token not in await admin.content()

    # a webhook endpoint for Acme's posts, and one post of Sam's on its portal
    api = Api(server)
    customers = await api(ADMIN, "{ customers { edges { node { id name } } } }")
    acme = next(
        e["node"]["id"]
        for e in customers["customers"]["edges"]
        if e["node"]["name"] == "Acme Logistics"
    )
    created = await api(
        ADMIN,
        "mutation ($input: CreateWebhookEndpointInput!) "
        "{ createWebhookEndpoint(input: $input) { webhookEndpoint { id } } }",
        input={"url": receiver, "eventTypes": ["MICROPOST_POSTED"], "customerId": acme},
    )
    endpoint = created["createWebhookEndpoint"]["webhookEndpoint"]["id"]
    projects = await api(SAM, "{ projects(first: 1) { edges { node { id } } } }")
    project = projects["projects"]["edges"][0]["node"]["id"]
    await api(
        SAM,
        'mutation ($p: ID!) { postMicropost(input: {projectId: $p, body: "Go-live moved"}) '
        "{ micropost { id } } }",
        p=project,
    )

    async def delivered() -> bool:
        log = await api(
            ADMIN,
            "query ($id: ID!) { webhookEndpoint(id: $id) { deliveries { totalCount } } }",
            id=endpoint,
        )
        return bool(log["webhookEndpoint"]["deliveries"]["totalCount"])

    await until(delivered, 15, what="a delivery to the receiver")
    await admin.reload()
    item = admin.locator(f'[data-endpoint="{endpoint}"]')
    await expect(item).to_contain_text("Active")
    await item.get_by_role("button", name="Show delivery log").click()
    row = item.get_by_test_id("deliveries").locator("tbody tr").first
    await expect(row).to_contain_text("MICROPOST_POSTED")
    await expect(row).to_contain_text("Delivered")
    await expect(row).to_contain_text("200")
    await expect(row).to_contain_text("thanks")
    await expect(item.get_by_role("button", name="Show delivery log")).to_have_count(0)
    await expect(item.get_by_role("button", name="Hide delivery log")).to_have_attribute(
        "aria-expanded", "true"
    )
