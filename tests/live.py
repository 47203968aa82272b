"""A real server on a loopback port inside the test's event loop, and a websocket client
that speaks graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import websockets
from starlette.types import ASGIApp
from websockets.typing import Subprotocol

from realtime.bus import EventBus
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


async def until(
    condition: Callable[[], bool | Awaitable[bool]], within: float = 10, *, what: str = ""
) -> None:
    """Return as soon as ``condition()`` holds (checked every 5 ms; it may be a coroutine
    function); raises TimeoutError naming ``what`` when it does not within ``within``
    seconds."""
    try:
        async with asyncio.timeout(within):
            while True:
                holds = condition()
                if holds if isinstance(holds, bool) else await holds:
                    return
                await asyncio.sleep(0.005)
    except TimeoutError:
        raise TimeoutError(f"not within {within} s: {what or condition}") from None


async def until_subscribed(bus: EventBus, channel: str, count: int = 1, within: float = 10) -> None:
    """Until at least ``count`` subscribers of this process listen to ``channel`` (a name
    made by realtime/channels.py): what a test waits for before it acts on a subscription
    it just sent. Raises TimeoutError after ``within`` seconds."""
    scoped = f"{bus.namespace}.{channel}"
    await until(
        lambda: bus.fanout.subscriber_count(scoped) >= count,
        within,
        what=f"{count} subscriber(s) of {channel}",
    )


class _QuickServer(uvicorn.Server):
    """uvicorn's server, which notices it should stop within 5 ms instead of 100 ms and
    stops as soon as its connections have closed, instead of after fixed pauses of 100 ms:
    a tenth of the fast tests' time otherwise, as about a hundred of them start one. The
    app's lifespan is the test's, never this server's."""

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            await asyncio.sleep(0.005)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        state = self.server_state
        try:
            await until(lambda: not state.connections and not state.tasks, 10)
        except TimeoutError:  # as uvicorn does after its graceful shutdown's timeout
            for task in state.tasks:
                task.cancel()
        for server in self.servers:
            await server.wait_closed()


@asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[str]:
    """Serve an app whose lifespan already runs on a loopback port bound here (so no other
    process can take it first); yields ``host:port`` once it listens.

    Raises TimeoutError when it does not listen within 30 seconds."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, lifespan="off", log_level="warning", ws="websockets-sansio")
    server = _QuickServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        try:
            await until(lambda: server.started, 30, what="the server listens")
        except BaseException:
            server.should_exit = True
            task.cancel()
            raise
        try:
            yield f"127.0.0.1:{port}"
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 10)
    finally:
        sock.close()


START_TIMEOUT = 90.0
"""Seconds `extranet serve` has to answer /healthz: a busy two-core machine starting two of
them at once takes several seconds of its own."""


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Terminate (the server's clean shutdown), then kill what still runs after 10 s."""
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _ready(process: asyncio.subprocess.Process, address: str, within: float) -> bool:
    """Whether the server answers /healthz with 200 within ``within`` seconds; False as soon
    as the process has ended."""
    async with httpx.AsyncClient(timeout=5) as http, asyncio.timeout(within):
        while process.returncode is None:
            try:
                if (await http.get(f"http://{address}/healthz")).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            with suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 0.05)
    return False


@asynccontextmanager
async def serve_process(env: dict[str, str], *, port: int | None = None) -> AsyncIterator[str]:
    """`extranet serve` as its own process on a spare port (or ``port``); yields
    ``host:port`` once /healthz answers 200.

    A spare port that another process took before the server bound it is replaced by
    another one. Raises RuntimeError, with what the server printed, when it ends or does
    not answer within START_TIMEOUT seconds."""
    for attempt in range(3):
        chosen = port or free_port()
        address = f"127.0.0.1:{chosen}"
        with tempfile.TemporaryFile() as output:
            process = await asyncio.create_subprocess_exec(
                EXTRANET, "serve", "--port", str(chosen),
                env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                ready = await _ready(process, address, START_TIMEOUT)
            except TimeoutError:
                ready = False
            except BaseException:
                await _stop(process)
                raise
            if ready:
                try:
                    yield address
                finally:
                    await _stop(process)
                return
            await _stop(process)
            output.seek(0)
            printed = output.read().decode(errors="replace")
        taken = "address already in use" in printed.lower()
        if not taken or port is not None or attempt == 2:
            raise RuntimeError(
                f"`extranet serve --port {chosen}` did not answer /healthz "
                f"(exit status {process.returncode}):\n{printed}"
            )


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
