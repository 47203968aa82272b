"""Two server processes count a user's websockets together in Redis: a thousand sockets
opened at once, closed at once and opened again are counted exactly, so nobody is refused on
reconnecting for sockets that already closed, while one socket past the limit still is.

The registry sends what is asked at once as one script call, and a removal that failed, or
an open that was given up on, is removed with the next batch or renewal."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from redis.exceptions import ConnectionError as RedisConnectionError
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from app.db import is_postgres
from infra.redis_clients import redis_client
from realtime.sockets import RedisSockets
from tests.conftest import _migrations_key
from tests.live import PROTOCOL, load_demo, serve_process, until
from tests.services import fresh_database

PASSWORD = "demo-extranet-2026"
PEOPLE = ("sam@provider.example", "olivia@provider.example", "anna@acme.example",
          "max@acme.example")  # fmt: skip
EACH = 250  # sockets per person, half on each process: exactly the per-user limit
LOGIN = """mutation ($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken } }"""


@pytest.fixture
async def shared_env(tmp_path: Path, any_redis: str) -> AsyncIterator[dict[str, str]]:
    """Both processes' settings: one database, one Redis under a namespace of this test's
    own, and a per-user limit of exactly what the test holds."""
    namespace = f"count-{secrets.token_hex(4)}"
    async with fresh_database(tmp_path) as url:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "BROADCAST_URL": any_redis,
            "BROADCAST_NAMESPACE": namespace,
            "EXTRANET_SECRET_KEY": "socket-count-secret-key-long-enough-12345",
            "EXTRANET_ENV": "development",
            "EXTRANET_WS_MAX_CONNECTIONS_PER_USER": str(EACH),
        }
        if not is_postgres(url):  # the migrated schema the other tests keep, if there is one
            template = (
                Path(tempfile.gettempdir()) / f"extranet-tests-migrated-{_migrations_key()}.sqlite3"
            )
            if template.is_file():
                shutil.copyfile(template, url.removeprefix("sqlite://"))
        await load_demo(env)
        try:
            yield env
        finally:
            redis = redis_client(any_redis)
            try:
                async for key in redis.scan_iter(f"{namespace}.*", count=1000):
                    await redis.delete(key)
            finally:
                await redis.aclose()


async def _token(address: str, email: str) -> str:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"http://{address}/graphql",
            json={"query": LOGIN, "variables": {"email": email, "password": PASSWORD}},
        )
    return str(response.json()["data"]["login"]["accessToken"])


async def _open(address: str, token: str) -> tuple[ClientConnection, str]:
    """A socket past connection_init: its connection and ``ack``, or the close frame's
    code and reason when the server refused it."""
    connection = await websockets.connect(
        f"ws://{address}/graphql",
        subprotocols=[Subprotocol(PROTOCOL)],
        open_timeout=30,
        ping_interval=None,
        compression=None,
    )
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
    await connection.send(json.dumps(init))
    try:
        reply = json.loads(await asyncio.wait_for(connection.recv(), 30))
    except websockets.ConnectionClosed as closed:
        frame = closed.rcvd
        return connection, f"{frame.code} {frame.reason}" if frame else "dropped"
    return connection, "ack" if reply.get("type") == "connection_ack" else str(reply)


async def _open_all(addresses: tuple[str, str], tokens: list[str]) -> list[ClientConnection]:
    """EACH sockets of every person at once, taking turns between the processes; asserts
    that every one was acknowledged."""
    opened = await asyncio.gather(
        *(_open(addresses[n % 2], token) for token in tokens for n in range(EACH))
    )
    answers = [answer for _, answer in opened]
    assert answers == ["ack"] * len(answers), {a for a in answers if a != "ack"}
    return [connection for connection, _ in opened]


async def _counted(redis: Any, namespace: str, what: str) -> int:
    """The entries that count now (not expired) in the namespace's ``what`` sets."""
    now = time.time()
    total = 0
    async for key in redis.scan_iter(f"{namespace}.{what}.*", count=1000):
        total += int(await redis.zcount(key, now, "+inf"))
    return total


async def test_a_thousand_sockets_closed_and_reopened_at_once_are_counted_exactly(
    shared_env: dict[str, str],
) -> None:
    namespace = shared_env["BROADCAST_NAMESPACE"]
    redis = redis_client(shared_env["BROADCAST_URL"])
    async with serve_process(shared_env) as first, serve_process(shared_env) as second:
        addresses = (first, second)
        tokens = [await _token(first, email) for email in PEOPLE]
        everyone = len(PEOPLE) * EACH

        # given a thousand sockets of four people, opened at once through two processes
        sockets = await _open_all(addresses, tokens)
        # then each is counted once, in the foreground
        assert await _counted(redis, namespace, "sockets") == everyone
        assert await _counted(redis, namespace, "activity") == everyone

        # when they all close at once
        await asyncio.gather(*(sock.close() for sock in sockets))

        # then none counts any more, soon: a closed socket does not wait for its TTL
        async def uncounted() -> bool:
            sockets = await _counted(redis, namespace, "sockets")
            return sockets == 0 and await _counted(redis, namespace, "activity") == 0

        await until(uncounted, 20, what="the closed sockets are uncounted")

        # and when they all open again at once, at the limit, none is refused
        sockets = await _open_all(addresses, tokens)
        assert await _counted(redis, namespace, "sockets") == everyone
        # while one more socket of a person at the limit still is, on either process
        for address in addresses:
            extra, answer = await _open(address, tokens[0])
            assert answer.startswith("4403 TOO_MANY_CONNECTIONS"), answer
            await extra.close()
        await asyncio.gather(*(sock.close() for sock in sockets))
    await redis.aclose()


@pytest.fixture
async def registry(any_redis: str) -> AsyncIterator[RedisSockets]:
    """A registry of its own namespace (its keys deleted afterwards)."""
    namespace = f"count-{secrets.token_hex(4)}"
    sockets = RedisSockets(any_redis, namespace)
    try:
        yield sockets
    finally:
        await sockets.aclose()
        redis = redis_client(any_redis)
        try:
            async for key in redis.scan_iter(f"{namespace}.*", count=1000):
                await redis.delete(key)
        finally:
            await redis.aclose()


class _Script:
    """Stands for the registry's script: counts the calls, fails the next one as if Redis
    were away when told to, and holds calls until released when told to."""

    def __init__(self, script: Any) -> None:
        self.script = script
        self.calls = 0
        self.fail_next = False
        self.started = asyncio.Event()
        self.released = asyncio.Event()
        self.released.set()

    async def __call__(self, **arguments: Any) -> Any:
        self.calls += 1
        self.started.set()
        await self.released.wait()
        if self.fail_next:
            self.fail_next = False
            raise RedisConnectionError("Redis is away")
        return await self.script(**arguments)


@pytest.fixture
def script(registry: RedisSockets, monkeypatch: pytest.MonkeyPatch) -> _Script:
    standing_in = _Script(registry._apply)
    monkeypatch.setattr(registry, "_apply", standing_in)
    return standing_in


async def _counted_of(url: str, registry: RedisSockets, user_id: int) -> int:
    redis = redis_client(url)
    try:
        return int(await redis.zcard(registry._key(user_id)))
    finally:
        await redis.aclose()


async def test_a_thousand_opens_at_once_are_one_script_call(
    registry: RedisSockets, script: _Script
) -> None:
    # when a thousand sockets of one user, who may hold 999, open at once
    keys = await asyncio.gather(*(registry.open(7, limit=999) for _ in range(1000)))
    # then they went to Redis together, and exactly one was refused
    assert script.calls <= 2
    assert sum(key is None for key in keys) == 1
    # and when they all close at once, they go together too and leave nothing counted
    calls = script.calls
    await asyncio.gather(*(registry.close(7, key) for key in keys if key is not None))
    assert script.calls - calls <= 2
    assert await registry.open(7, limit=1) is not None


async def test_a_removal_that_failed_is_sent_before_the_users_next_open(
    registry: RedisSockets, script: _Script, any_redis: str
) -> None:
    # given a user who holds their one socket
    held = await registry.open(7, limit=1)
    assert held is not None
    # when its removal fails (Redis away for a moment): closing does not raise
    script.fail_next = True
    await registry.close(7, held)
    assert await _counted_of(any_redis, registry, 7) == 1
    # then their next socket is not refused for the one that closed
    assert await registry.open(7, limit=1) is not None
    assert await registry.open(7, limit=1) is None


async def test_a_removal_that_failed_is_sent_with_the_next_renewal(
    registry: RedisSockets, script: _Script, any_redis: str
) -> None:
    held = await registry.open(7, limit=1)
    assert held is not None
    script.fail_next = True
    await registry.close(7, held)
    await registry.renew()
    assert await _counted_of(any_redis, registry, 7) == 0


async def test_an_open_given_up_on_does_not_stay_counted(
    registry: RedisSockets, script: _Script, any_redis: str
) -> None:
    # given an open whose caller leaves while its batch is on its way to Redis
    script.released.clear()
    opening = asyncio.create_task(registry.open(7, limit=1))
    await script.started.wait()
    opening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await opening
    script.released.set()
    # then it was counted, then removed: the user's next socket is not refused
    assert await registry.open(7, limit=1) is not None
    assert await _counted_of(any_redis, registry, 7) == 1
