"""A real server on a loopback port inside the test's event loop, and a websocket client
that speaks graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import websockets
from starlette.types import ASGIApp
from websockets.typing import Subprotocol

from tests.services import free_port

PROTOCOL = "graphql-transport-ws"
EXTRANET = str(Path(sys.executable).parent / "extranet")


async def load_demo(env: dict[str, str]) -> None:
    """`extranet migrate` and `extranet demo` against the database of ``env``."""
    for step in (["migrate"], ["demo"]):
        done = await asyncio.to_thread(
            subprocess.run,
            [EXTRANET, *step],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr


@asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[str]:
    """Serve an app whose lifespan already runs; yields ``host:port``."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@asynccontextmanager
async def serve_process(env: dict[str, str], *, port: int | None = None) -> AsyncIterator[str]:
    """`extranet serve` as its own process on a spare port (or ``port``); yields
    ``host:port``."""
    port = port or free_port()
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "extranet"),
        "serve",
        "--port",
        str(port),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    address = f"127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            for _ in range(200):
                try:
                    if (await http.get(f"http://{address}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        yield address
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)


class GraphQLSocket:
    """A graphql-transport-ws connection (written here only to drive protocol edge cases;
    tests/graphql/test_subscriptions.py also uses the gql library's client)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    @classmethod
    @asynccontextmanager
    async def open(
        cls, address: str, token: str | None, *, init: bool = True
    ) -> AsyncIterator[GraphQLSocket]:
        async with websockets.connect(
            f"ws://{address}/graphql", subprotocols=[Subprotocol(PROTOCOL)], open_timeout=5
        ) as connection:
            sock = cls(connection)
            if init:
                payload = {"authorization": f"Bearer {token}"} if token else {}
                await sock.send({"type": "connection_init", "payload": payload})
            yield sock

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, within: float = 10) -> dict[str, Any]:
        return dict(json.loads(await asyncio.wait_for(self.connection.recv(), within)))

    async def subscribe(self, op_id: str, query: str, variables: dict[str, Any]) -> None:
        await self.send(
            {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
