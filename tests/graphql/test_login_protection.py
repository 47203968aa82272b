"""Sign-in protection that nobody can turn against someone else's account: failures lock
only the account-and-address pair that made them, failures from many addresses or for many
accounts slow only the failing side down (RATE_LIMITED with the seconds to wait), unknown
emails behave exactly like known ones, and X-Forwarded-For counts only from a trusted
proxy."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from starlette.applications import Starlette

from actions import accounts
from app.main import create_app
from domain import throttle
from domain.errors import RateLimited, Unauthenticated
from domain.throttle import (
    LoginThrottle,
    MemoryAttempts,
    RedisAttempts,
    Rule,
    Slowdown,
    attempt_store,
)
from infra.settings import SettingsError, load_settings
from models import AuditEntry
from tests.conftest import Api
from tests.services import RedisProcess
from tests.world import PASSWORD, World

LOGIN = """mutation ($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken } }"""


async def _login(api: Api, email: str, password: str) -> list[str]:
    result = await api(LOGIN, {"email": email, "password": password})
    return result.codes


async def _retry_after(api: Api, email: str, password: str) -> int:
    result = await api(LOGIN, {"email": email, "password": password})
    assert result.codes == ["RATE_LIMITED"], result.body
    assert "Try again in" in result.errors[0]["message"]
    return int(result.errors[0]["extensions"]["retryAfter"])


async def _login_from(app: Starlette, email: str, password: str, address: str) -> str:
    """Sign in from another client address: "" when signed in, else the error's code."""
    try:
        await accounts.login(
            app.state.settings, email, password, address, app.state.graphql.throttle
        )
    except (Unauthenticated, RateLimited) as error:
        return error.code
    return ""


@pytest.mark.parametrize("email", ["gina@globex.example", "admin@provider.example"])
async def test_wrong_passwords_from_many_addresses_never_lock_the_owner_out(
    app: Starlette, world: World, email: str
) -> None:
    # given five wrong passwords from five addresses, again and again
    for _round in range(3):
        for n in range(5):
            assert await _login_from(app, email, "wrong", f"198.51.100.{n}") in {
                "UNAUTHENTICATED",
                "RATE_LIMITED",
            }
    # then the owner signs in from their own address at once
    assert await _login_from(app, email, PASSWORD, "192.0.2.50") == ""


async def test_failures_from_many_addresses_slow_only_the_failing_ones(
    app: Starlette, world: World
) -> None:
    # given failures for gina from as many addresses as the account-wide allowance
    for n in range(throttle.ACCOUNT.after):
        assert await _login_from(app, "gina@globex.example", "wrong", f"198.51.100.{n}") == (
            "UNAUTHENTICATED"
        )
    # when one more address fails
    assert await _login_from(app, "gina@globex.example", "wrong", "198.51.100.99") == (
        "UNAUTHENTICATED"
    )
    # then that address must wait a little before its next try, even with the password
    assert await _login_from(app, "gina@globex.example", PASSWORD, "198.51.100.99") == (
        "RATE_LIMITED"
    )
    # while an address that has not failed is never held up
    assert await _login_from(app, "gina@globex.example", PASSWORD, "192.0.2.50") == ""


@pytest.mark.parametrize("email", ["anna@acme.example", "nobody@acme.example"])
async def test_five_failures_lock_that_account_from_that_address_only(
    api: Api, app: Starlette, world: World, email: str
) -> None:
    for _ in range(5):
        assert await _login(api, email, "wrong") == ["UNAUTHENTICATED"]
    # then from this address even the right password waits, and says for how long
    wait = await _retry_after(api, email, PASSWORD)
    assert 0 < wait <= throttle.PAIR.lock
    assert await AuditEntry.filter(action="login.failed").count() == 5
    # another account from the same address is not locked
    assert await _login(api, "max@acme.example", PASSWORD) == []
    # and the same account from another address is not either
    expected = "" if email == "anna@acme.example" else "UNAUTHENTICATED"
    assert await _login_from(app, email, PASSWORD, "192.0.2.50") == expected


async def test_a_success_forgets_earlier_failures(api: Api, world: World) -> None:
    for _ in range(4):
        await _login(api, "anna@acme.example", "wrong")
    assert await _login(api, "anna@acme.example", PASSWORD) == []
    for _ in range(4):
        assert await _login(api, "anna@acme.example", "wrong") == ["UNAUTHENTICATED"]
    assert await _login(api, "anna@acme.example", PASSWORD) == []


@pytest.mark.slow  # waits for a sign-in delay to run out in real time
async def test_many_unknown_emails_from_one_address_only_slow_that_address(
    api: Api, world: World, app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "ADDRESS", Slowdown(after=20, window=60, max_delay=1))
    # trying one password on many unknown accounts, from the test client's address
    for n in range(22):
        await _login(api, f"guess{n}@acme.example", "Winter2026!")
    # then that address waits seconds, not a quarter of an hour
    assert 0 < await _retry_after(api, "anna@acme.example", PASSWORD) <= 1
    # known accounts from other addresses are not held up at all
    assert await _login_from(app, "anna@acme.example", PASSWORD, "198.51.100.9") == ""
    assert await _login_from(app, "gina@globex.example", PASSWORD, "198.51.100.10") == ""
    # and once the short wait is over, the address signs in again
    deadline = time.monotonic() + 30
    while (codes := await _login(api, "anna@acme.example", PASSWORD)) != []:
        assert codes == ["RATE_LIMITED"]
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)


@pytest.mark.slow  # waits for a lock to run out in real time
async def test_a_lock_ends_by_itself(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "PAIR", Rule(failures=2, window=60, lock=1))
    await _login(api, "anna@acme.example", "wrong")
    await _login(api, "anna@acme.example", "wrong")
    await _retry_after(api, "anna@acme.example", PASSWORD)
    deadline = time.monotonic() + 30
    while (codes := await _login(api, "anna@acme.example", PASSWORD)) != []:
        assert codes == ["RATE_LIMITED"]
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_the_stores_count_lock_and_clear(kind: str, own_redis: RedisProcess) -> None:
    store = RedisAttempts(own_redis.url, "throttle-test") if kind == "redis" else MemoryAttempts()
    guard = LoginThrottle(store)
    try:
        for _ in range(throttle.PAIR.failures):
            await guard.check("x@y.example", "192.0.2.1")
            await guard.failed("x@y.example", "192.0.2.1")
        with pytest.raises(RateLimited):
            await guard.check("X@Y.example ", "192.0.2.1")  # the same account, spelled otherwise
        await guard.check("x@y.example", "192.0.2.2")  # the same account from elsewhere
        await guard.check("z@y.example", "192.0.2.1")  # the address is below its allowance
        assert await store.locked_for("pair:192.0.2.1|x@y.example") > 0
        await guard.failed("z@y.example", "192.0.2.1")
        await guard.succeeded("z@y.example", "192.0.2.1")
        assert await store.fail("pair:192.0.2.1|z@y.example", 60) == 1  # forgotten
    finally:
        await store.close()


@pytest.fixture
async def behind_proxy(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a server whose load balancer is the test client's address."""
    settings = replace(app.state.settings, trusted_proxies=("203.0.113.0/24",))
    proxied = create_app(settings)
    graphql = proxied.state.graphql
    graphql.throttle.store = attempt_store(
        settings.broadcast_url, f"{settings.broadcast_namespace}-proxy-{time.monotonic_ns()}"
    )
    transport = httpx.ASGITransport(app=proxied, client=("203.0.113.7", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
    finally:
        await graphql.throttle.store.close()
        await graphql.persisted.close()


async def _post(client: httpx.AsyncClient, email: str, password: str, forwarded: str) -> str:
    response = await client.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"email": email, "password": password}},
        headers={"X-Forwarded-For": forwarded},
    )
    errors = response.json().get("errors") or []
    return str(errors[0]["extensions"]["code"]) if errors else ""


async def test_behind_a_trusted_proxy_each_client_counts_for_itself(
    behind_proxy: httpx.AsyncClient, world: World
) -> None:
    # given twenty-five bad sign-ins of one client behind the load balancer
    for n in range(25):
        await _post(behind_proxy, f"guess{n}@acme.example", "wrong", "198.51.100.66")
    assert await _post(behind_proxy, "anna@acme.example", PASSWORD, "198.51.100.66") == (
        "RATE_LIMITED"
    )
    # then every other client behind the same load balancer signs in
    assert await _post(behind_proxy, "anna@acme.example", PASSWORD, "198.51.100.67") == ""
    assert await _post(behind_proxy, "max@acme.example", PASSWORD, "198.51.100.68") == ""
    # and the audit trail names the client, not the load balancer
    entry = await AuditEntry.filter(action="login.failed").first()
    assert entry is not None
    assert entry.client_address == "198.51.100.66"


async def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(
    api: Api, client: httpx.AsyncClient, world: World
) -> None:
    # when a client names another address for each try, without a trusted proxy
    for n in range(5):
        assert await _post(client, "anna@acme.example", "wrong", f"198.51.100.{n}") == (
            "UNAUTHENTICATED"
        )
    # then every try counted for its real address, which is now locked for anna
    assert await _post(client, "anna@acme.example", PASSWORD, "198.51.100.200") == ("RATE_LIMITED")
    assert {e.client_address for e in await AuditEntry.filter(action="login.failed")} == {
        "203.0.113.7"
    }


def test_trusted_proxies_are_addresses_or_networks() -> None:
    env = {"EXTRANET_TRUSTED_PROXIES": "10.0.0.5, 10.1.0.0/16"}
    assert load_settings(env).trusted_proxies == ("10.0.0.5", "10.1.0.0/16")
    assert load_settings({}).trusted_proxies == ()
    for bad in ("*", "lb.internal", "10.0.0.0/33"):
        with pytest.raises(SettingsError, match="EXTRANET_TRUSTED_PROXIES"):
            load_settings({"EXTRANET_TRUSTED_PROXIES": bad})


def test_serving_behind_a_proxy_needs_the_trusted_proxies(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import main

    monkeypatch.delenv("EXTRANET_TRUSTED_PROXIES", raising=False)
    assert main(["serve", "--proxy-headers"]) == 2
    assert "EXTRANET_TRUSTED_PROXIES" in capsys.readouterr().err


async def test_a_wrong_password_is_still_unauthenticated_below_the_limit(
    world: World, app: Starlette
) -> None:
    with pytest.raises(Unauthenticated):
        await accounts.login(
            app.state.settings, "anna@acme.example", "nope", "192.0.2.7", app.state.graphql.throttle
        )


async def test_addresses_of_one_ipv6_network_count_as_one_client(
    app: Starlette, world: World
) -> None:
    # given five wrong passwords for anna, each from another address of one IPv6 /64
    for n in range(5):
        address = f"2001:db8:7:9::{n + 1:x}"
        assert await _login_from(app, "anna@acme.example", "wrong", address) == "UNAUTHENTICATED"
    # then a sixth address of that network is locked for anna, even with her password
    assert await _login_from(app, "anna@acme.example", PASSWORD, "2001:db8:7:9:ffff::1") == (
        "RATE_LIMITED"
    )
    # while the neighbouring network, and the same network for another account, are not
    assert await _login_from(app, "anna@acme.example", PASSWORD, "2001:db8:7:a::1") == ""
    assert await _login_from(app, "max@acme.example", PASSWORD, "2001:db8:7:9::1") == ""


def test_an_ipv4_mapped_address_counts_as_the_ipv4_address() -> None:
    assert throttle.client_key("::ffff:198.51.100.7") == "198.51.100.7"
    assert throttle.client_key("198.51.100.7") == "198.51.100.7"
    assert throttle.client_key("2001:db8::1") == throttle.client_key("2001:db8::2:3")
    assert throttle.client_key("") == "unknown"
