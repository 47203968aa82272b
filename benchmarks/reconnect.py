"""A reconnect storm: N projectTimeline subscribers drop their sockets and all come back at
once, each resuming from its cursor.

Starts the extranet server (fresh SQLite database with demo data and ``memory://``
fan-out, or the ``DATABASE_URL`` and ``BROADCAST_URL`` given), subscribes N clients (taking
turns among four demo users: three audiences), posts once, closes every socket, posts one
message while everybody is away, then has all N reconnect (200 handshakes at a time, as
``benchmarks/fanout.py`` does) with ``after`` set to the cursor they held, and waits until
every one received the missed message. Prints the time that took and the server's CPU per
reconnect (from /proc, so the clients' CPU is not counted), then the same CPU counted a few
seconds longer, over the full garbage collection that waits for the end of the burst
(app/collector.py), for each of ``--rounds`` storms.

    .venv/bin/python benchmarks/reconnect.py --subscribers 2000 --rounds 3
    .venv/bin/python benchmarks/reconnect.py --subscribers 2000 --profile /tmp/storm.txt
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fanout import (  # the fan-out benchmark's clients and helpers
    BIN,
    LOGIN,
    POST,
    PROJECTS,
    READERS,
    TIMELINE,
    Clients,
    cpu_seconds,
    free_port,
    gather_limited,
    start_profiler,
    stop_profiler,
    wait_http,
)

AFTER_BURST = 5.0
"""Seconds after a storm that hold the full collection deferred to the end of its burst
(app/collector.py: ``BURST_QUIET`` without a new socket, then the collection)."""


async def storm(n: int, rounds: int, profile: str | None) -> list[tuple[float, float, float]]:
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="extranet-storm-")
    env = {
        "DATABASE_URL": f"sqlite://{workdir}/bench.sqlite3",
        "BROADCAST_URL": "memory://",
        **os.environ,
        "EXTRANET_SECRET_KEY": "benchmark-secret-key-that-is-long-enough",
        "EXTRANET_ACCESS_TOKEN_TTL": "3600",
        "EXTRANET_WS_MAX_CONNECTIONS_PER_USER": str(n),  # four users hold every socket
    }
    for step in (["migrate"], ["demo"]):
        subprocess.run([str(BIN / "extranet"), *step], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [str(BIN / "extranet"), "serve", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    clients = Clients()
    base = f"http://127.0.0.1:{port}/graphql"
    figures: list[tuple[float, float, float]] = []
    try:
        await wait_http(f"http://127.0.0.1:{port}/healthz")
        async with httpx.AsyncClient(timeout=120) as http:

            async def gql(query: str, token: str = "", **variables: Any) -> dict[str, Any]:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                reply = await http.post(
                    base, json={"query": query, "variables": variables}, headers=headers
                )
                return dict(reply.json()["data"])

            tokens = {
                email: (await gql(LOGIN, email=email))["login"]["accessToken"] for email in READERS
            }
            staff, contact = tokens["sam@provider.example"], tokens["anna@acme.example"]
            edges = (await gql(PROJECTS, contact))["projects"]["edges"]
            [portal] = [e["node"] for e in edges if e["node"]["name"].startswith("Warehouse")]

            def on_frame(frame: Any) -> bool:
                return bool(frame.get("type") == "next")

            async def subscribe(index: int, after: str | None) -> None:
                ws = await websockets.connect(
                    f"ws://127.0.0.1:{port}/graphql",
                    subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                    max_queue=None,
                    open_timeout=120,  # a loaded machine queues the handshakes
                )
                token = tokens[READERS[index % len(READERS)]]
                init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
                await ws.send(json.dumps(init))
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                variables = {"p": portal["id"], "after": after}
                payload = {"query": TIMELINE, "variables": variables}
                await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
                clients.sockets.append(ws)
                clients.received.append([])
                clients.start_reading(len(clients.received) - 1, ws, on_frame)

            def subscribing(index: int, after: str | None) -> Callable[[], Awaitable[None]]:
                return lambda: subscribe(index, after)

            await gather_limited([subscribing(i, None) for i in range(n)])
            await gql(POST, staff, p=portal["id"], b="warm-up")
            await clients.wait_for(1, 600)
            for k in range(rounds):
                nodes = (await gql(PROJECTS, contact))["projects"]["edges"]
                cursor = next(e["node"] for e in nodes if e["node"]["id"] == portal["id"])
                await clients.close()
                clients.received.clear()
                await gql(POST, staff, p=portal["id"], b=f"while everybody was away {k}")
                await asyncio.sleep(1)  # the server let go of every socket
                profiler = start_profiler(server.pid, profile) if k == rounds - 1 else None
                cpu0, started = cpu_seconds(server.pid), time.perf_counter()
                await gather_limited([subscribing(i, cursor["timelineCursor"]) for i in range(n)])
                await clients.wait_for(1, 600)
                seconds = time.perf_counter() - started
                cpu = cpu_seconds(server.pid) - cpu0
                # the full collection deferred to the end of the burst (app/collector.py)
                await asyncio.sleep(AFTER_BURST)
                after = cpu_seconds(server.pid) - cpu0
                stop_profiler(profiler)
                figures.append((seconds, cpu / n, after / n))
                print(
                    f"storm {k + 1}: {n} clients reconnected and resumed in {seconds:.2f} s, "
                    f"{cpu / n * 1000:.2f} ms server CPU per reconnect "
                    f"({after / n * 1000:.2f} ms with the next {AFTER_BURST:.0f} s: the "
                    "full collection after the burst)",
                    flush=True,
                )
    finally:
        await clients.close()
        server.terminate()
        server.wait(10)
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="storms, one after the other")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="record the server's stacks during the last storm with py-spy (pip install "
        "py-spy), into FILE in its raw (collapsed) format",
    )
    args = parser.parse_args()
    print(f"{args.subscribers} subscribers, {args.rounds} storms, {os.cpu_count()} cores")
    figures = await storm(args.subscribers, args.rounds, args.profile)
    seconds = statistics.median(s for s, _, _ in figures)
    cpu = statistics.median(c for _, c, _ in figures)
    after = statistics.median(a for _, _, a in figures)
    print(
        f"median: {seconds:.2f} s, {cpu * 1000:.2f} ms server CPU per reconnect "
        f"({after * 1000:.2f} ms with the collection after the burst)"
    )


if __name__ == "__main__":
    asyncio.run(main())
