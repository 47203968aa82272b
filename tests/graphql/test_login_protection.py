"""Sign-in protection: too many failures lock an account or an address for a while, with
RATE_LIMITED and the seconds to wait; unknown emails behave exactly like known ones."""

from __future__ import annotations

import asyncio

import pytest
from starlette.applications import Starlette

from app import throttle
from app.actions import accounts
from app.errors import RateLimited, Unauthenticated
from app.throttle import LoginThrottle, MemoryAttempts, RedisAttempts, Rule
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


@pytest.mark.parametrize("email", ["anna@acme.example", "nobody@acme.example"])
async def test_five_failures_lock_the_account_known_or_not(
    api: Api, world: World, email: str
) -> None:
    for _ in range(5):
        assert await _login(api, email, "wrong") == ["UNAUTHENTICATED"]
    # then even the right password waits, and says for how long
    wait = await _retry_after(api, email, PASSWORD)
    assert 0 < wait <= throttle.ACCOUNT.lock
    assert await AuditEntry.filter(action="login.failed").count() == 5
    # another account from the same address is not locked
    assert await _login(api, "max@acme.example", PASSWORD) == []


async def test_a_success_forgets_earlier_failures(api: Api, world: World) -> None:
    for _ in range(4):
        await _login(api, "anna@acme.example", "wrong")
    assert await _login(api, "anna@acme.example", PASSWORD) == []
    for _ in range(4):
        assert await _login(api, "anna@acme.example", "wrong") == ["UNAUTHENTICATED"]
    assert await _login(api, "anna@acme.example", PASSWORD) == []


async def test_many_failures_from_one_address_lock_that_address(
    api: Api, world: World, app: Starlette
) -> None:
    # trying one password on many accounts, from the test client's address
    for n in range(20):
        await _login(api, f"guess{n}@acme.example", "Winter2026!")
    await _retry_after(api, "anna@acme.example", PASSWORD)
    # the same account from another address still signs in
    login = accounts.login(
        app.state.settings,
        "anna@acme.example",
        PASSWORD,
        "198.51.100.9",
        app.state.graphql.throttle,
    )
    assert (await login).access_token


async def test_a_lock_ends_by_itself(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "ACCOUNT", Rule(failures=2, window=60, lock=1))
    await _login(api, "anna@acme.example", "wrong")
    await _login(api, "anna@acme.example", "wrong")
    await _retry_after(api, "anna@acme.example", PASSWORD)
    await asyncio.sleep(1.2)
    assert await _login(api, "anna@acme.example", PASSWORD) == []


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_the_stores_count_lock_and_clear(kind: str, own_redis: RedisProcess) -> None:
    store = RedisAttempts(own_redis.url, "throttle-test") if kind == "redis" else MemoryAttempts()
    guard = LoginThrottle(store)
    try:
        for _ in range(throttle.ACCOUNT.failures):
            await guard.check("x@y.example", "192.0.2.1")
            await guard.failed("x@y.example", "192.0.2.1")
        with pytest.raises(RateLimited):
            await guard.check("X@Y.example ", "192.0.2.2")  # the same account, spelled otherwise
        await guard.check("z@y.example", "192.0.2.1")  # the address is below its limit
        await store.clear("account:z@y.example")
        assert await store.locked_for("account:x@y.example") > 0
    finally:
        await store.close()


async def test_a_wrong_password_is_still_unauthenticated_below_the_limit(
    world: World, app: Starlette
) -> None:
    with pytest.raises(Unauthenticated):
        await accounts.login(
            app.state.settings, "anna@acme.example", "nope", "192.0.2.7", app.state.graphql.throttle
        )
