"""The egress guard: only public addresses, unless an allowed network names them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette

from actions import microposts
from app.main import ExtranetGraphQL
from app.runner import JobRunner
from infra.egress import EgressRefused, networks, refusal, resolve
from infra.settings import Settings
from models import WebhookDelivery
from realtime.bus import EventBus
from tests.conftest import Api
from tests.world import World


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:8.8.8.8",
        "2002:7f00:1::",
    ],
)
def test_internal_addresses_are_refused(address: str) -> None:
    assert refusal(address) is not None


def test_public_addresses_and_allowed_networks_pass() -> None:
    assert refusal("8.8.8.8") is None
    assert refusal("2606:4700:4700::1111") is None
    assert refusal("127.0.0.1", networks(["127.0.0.1/32"])) is None
    assert refusal("127.0.0.2", networks(["127.0.0.1/32"])) is not None


async def test_urls_are_checked() -> None:
    for url in ("ftp://example.com/", "http://user:pw@127.0.0.1/", "http:///x"):
        with pytest.raises(EgressRefused):
            await resolve(url, networks(["127.0.0.1/32"]))
    with pytest.raises(EgressRefused, match="no public address"):
        await resolve("http://localhost:8080/hook")
    target = await resolve("http://127.0.0.1:8080/hook?a=1", networks(["127.0.0.1/32"]))
    assert target.connect_url == "http://127.0.0.1:8080/hook?a=1"
    assert target.host_header == "127.0.0.1:8080"


async def test_loopback_is_refused_without_the_allow_list(
    api: Api, world: World, app: Starlette, bus: EventBus, settings: Settings
) -> None:
    strict = replace(settings, webhook_allow_networks=())
    view = ExtranetGraphQL(strict, bus)
    transport = httpx.ASGITransport(app=view)
    mutation = (
        "mutation($url: String!) { createWebhookEndpoint(input: {url: $url, eventTypes: []}) "
        "{ webhookEndpoint { id } } }"
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            "/graphql",
            json={"query": mutation, "variables": {"url": "http://127.0.0.1:9/hook"}},
            headers={"Authorization": f"Bearer {api.token_for(world.admin)}"},
        )
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    # registered while allowed, then delivered by a runner without the allow-list: refused
    created = await api(mutation, {"url": "http://127.0.0.1:9/hook"}, as_user=world.admin)
    assert not created.errors
    await microposts.post_micropost(world.sam, bus, project_id=world.portal.id, body="x")
    runner = JobRunner(strict, bus)
    await runner.run_due(now=datetime.now(UTC))
    delivery = await WebhookDelivery.get()
    assert delivery.status.value == "FAILED"
    assert "no public address" in delivery.error
