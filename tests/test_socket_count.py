"""Two server processes count a user's websockets together in Redis: a thousand sockets
opened at once, closed at once and opened again are counted exactly, so nobody is refused on
reconnecting for sockets that already closed, while one socket past the limit still is."""

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
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from app.db import is_postgres
from infra.redis_clients import redis_client
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
