"""Fan-out cost of the projectTimeline subscription against a raw websocket broadcast.

Starts two server processes on loopback ports (the extranet server on a fresh SQLite
database with demo data, and benchmarks/raw_broadcast.py), connects N websocket clients
to each, sends M messages, and prints, for each side: server CPU per delivered message
(from /proc, so the clients' own CPU is not counted), publish-to-receive latency p50/p99,
and server memory per idle subscribed connection; then the ratio GraphQL / raw, and the
time for all N GraphQL clients to reconnect and resume from their cursor.

    .venv/bin/python benchmarks/fanout.py --subscribers 2000 --messages 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
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

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
LOGIN = """mutation ($email: String!) { login(input: {email: $email,
  password: "demo-extranet-2026"}) { accessToken } }"""
PROJECTS = "{ projects { edges { node { id name timelineCursor } } } }"
POST = """mutation ($p: ID!, $b: String!) { postMicropost(input: {projectId: $p, body: $b}) {
  micropost { id } } }"""
TIMELINE = """subscription ($p: ID!, $after: String) {
  projectTimeline(projectId: $p, after: $after) {
  __typename ... on TimelineEvent { cursor occurredAt actor { name } }
  ... on MicropostPosted { micropost { id body replyCount } } } }"""
# Subscribers take turns among these: three audiences (staff, the customer's lead contact,
# a project member), so each message is executed three times, not once.
READERS = [
    "anna@acme.example",
    "max@acme.example",
    "sam@provider.example",
    "olivia@provider.example",
]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_bytes(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_http(url: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            try:
                await http.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


class Clients:
    """N websocket clients that time-stamp every frame they receive."""

    def __init__(self) -> None:
        self.sockets: list[Any] = []
        self.received: list[list[float]] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def _reader(self, index: int, ws: Any, on_frame: Callable[[Any], bool]) -> None:
        try:
            async for raw in ws:
                if on_frame(json.loads(raw)):
                    self.received[index].append(time.perf_counter())
        except websockets.ConnectionClosed:
            pass

    def start_reading(self, index: int, ws: Any, on_frame: Callable[[Any], bool]) -> None:
        self.tasks.append(asyncio.create_task(self._reader(index, ws, on_frame)))

    async def wait_for(self, count: int, within: float) -> None:
        deadline = time.perf_counter() + within
        while any(len(r) < count for r in self.received):
            if time.perf_counter() > deadline:
                short = sum(1 for r in self.received if len(r) < count)
                raise TimeoutError(f"{short} clients still waiting for message {count}")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        self.sockets.clear()
        self.tasks.clear()


def start_profiler(pid: int, output: str | None) -> subprocess.Popen[bytes] | None:
    if output is None:
        return None
    command = [str(BIN / "py-spy"), "record", "--pid", str(pid), "--rate", "250"]
    command += ["--format", "raw", "--output", output, "--nonblocking"]
    profiler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)  # attached before the first message
    return profiler


def stop_profiler(profiler: subprocess.Popen[bytes] | None) -> None:
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        profiler.wait(30)


async def gather_limited(jobs: list[Callable[[], Awaitable[None]]], limit: int = 200) -> None:
    gate = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(run(job) for job in jobs))


def latencies(sent: list[float], clients: Clients) -> list[float]:
    return [
        (at - sent[n]) * 1000
        for received in clients.received
        for n, at in enumerate(received[: len(sent)])
    ]


def summary(
    name: str, cpu: float, deliveries: int, lat: list[float], mem: float
) -> dict[str, float]:
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    row = {
        "cpu_us_per_delivery": cpu / deliveries * 1e6,
        "p50_ms": statistics.median(lat),
        "p99_ms": p99,
        "rss_bytes_per_connection": mem,
    }
    print(
        f"{name:>8}: {row['cpu_us_per_delivery']:8.1f} µs CPU/delivery   "
        f"p50 {row['p50_ms']:7.1f} ms   p99 {row['p99_ms']:7.1f} ms   "
        f"{mem / 1024:6.1f} KiB RSS/connection"
    )
    return row


async def bench_raw(n: int, m: int, frame: str) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "uvicorn"), "benchmarks.raw_broadcast:app", "--port", str(port),
         "--log-level", "warning", "--ws", "websockets-sansio"],
        cwd=ROOT,
    )  # fmt: skip
    clients = Clients()
    try:
        await wait_http(f"http://127.0.0.1:{port}/broadcast")
        rss_before = rss_bytes(server.pid)

        def connect(i: int) -> Callable[[], Awaitable[None]]:
            async def job() -> None:
                ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws", max_queue=None)
                clients.sockets.append(ws)
                clients.received.append([])
                clients.start_reading(len(clients.received) - 1, ws, lambda _f: True)

            return job

        await gather_limited([connect(i) for i in range(n)])
        await asyncio.sleep(1)
        memory = (rss_bytes(server.pid) - rss_before) / n
        sent: list[float] = []
        cpu0 = cpu_seconds(server.pid)
        async with httpx.AsyncClient(timeout=60) as http:
            for k in range(m):
                sent.append(time.perf_counter())
                await http.post(f"http://127.0.0.1:{port}/broadcast", content=frame)
                await clients.wait_for(k + 1, 60)
        cpu = cpu_seconds(server.pid) - cpu0
        return summary("raw", cpu, n * m, latencies(sent, clients), memory)
    finally:
        await clients.close()
        server.terminate()
        server.wait(10)


async def bench_graphql(
    n: int, m: int, profile: str | None, tracing: bool = False
) -> tuple[dict[str, float], str]:
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="extranet-bench-")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite://{workdir}/bench.sqlite3",
        "BROADCAST_URL": "memory://",
        "EXTRANET_SECRET_KEY": "benchmark-secret-key-that-is-long-enough",
        "EXTRANET_ACCESS_TOKEN_TTL": "3600",
        # a few demo users hold all the benchmark's sockets
        "EXTRANET_WS_MAX_CONNECTIONS_PER_USER": str(n),
    }
    if tracing:  # every span serialised by the console exporter into the server's /dev/null
        env |= {"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "extranet-bench"}
    for step in (["migrate"], ["demo"]):
        subprocess.run([str(BIN / "extranet"), *step], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [str(BIN / "extranet"), "serve", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    clients = Clients()
    base = f"http://127.0.0.1:{port}/graphql"
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

            # the cost of the mutations themselves, before anybody subscribes
            cpu0 = cpu_seconds(server.pid)
            for k in range(m):
                await gql(POST, staff, p=portal["id"], b=f"unobserved {k}")
            mutations_only = cpu_seconds(server.pid) - cpu0

            def on_frame(frame: Any) -> bool:
                if frame.get("type") != "next":
                    return False
                event = frame["payload"]["data"]["projectTimeline"]
                return bool(event["micropost"]["body"].startswith(("message", "warm-up")))

            async def subscribe(index: int, after: str | None) -> None:
                ws = await websockets.connect(
                    f"ws://127.0.0.1:{port}/graphql",
                    subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                    max_queue=None,
                )
                token = tokens[READERS[index % len(READERS)]]
                await ws.send(
                    json.dumps(
                        {
                            "type": "connection_init",
                            "payload": {"authorization": f"Bearer {token}"},
                        }
                    )
                )
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                await ws.send(
                    json.dumps(
                        {
                            "id": "1",
                            "type": "subscribe",
                            "payload": {
                                "query": TIMELINE,
                                "variables": {"p": portal["id"], "after": after},
                            },
                        }
                    )
                )
                clients.sockets.append(ws)
                clients.received.append([])
                clients.start_reading(len(clients.received) - 1, ws, on_frame)

            def subscribing(index: int, after: str | None) -> Callable[[], Awaitable[None]]:
                return lambda: subscribe(index, after)

            rss_before = rss_bytes(server.pid)
            await gather_limited([subscribing(i, None) for i in range(n)])
            await asyncio.sleep(2)
            memory = (rss_bytes(server.pid) - rss_before) / n

            for k in range(2):  # warm-up: first use of every code path
                await gql(POST, staff, p=portal["id"], b=f"warm-up {k}")
                await clients.wait_for(k + 1, 600)
            for r in clients.received:
                r.clear()

            sent: list[float] = []
            profiler = start_profiler(server.pid, profile)
            cpu0 = cpu_seconds(server.pid)
            for k in range(m):
                sent.append(time.perf_counter())
                await gql(POST, staff, p=portal["id"], b=f"message {k}")
                await clients.wait_for(k + 1, 600)
            cpu = cpu_seconds(server.pid) - cpu0 - mutations_only
            stop_profiler(profiler)
            row = summary("graphql", cpu, n * m, latencies(sent, clients), memory)

            cursor = (await gql(PROJECTS, contact))["projects"]["edges"]
            cursor_before = next(e["node"] for e in cursor if e["node"]["id"] == portal["id"])
            await clients.close()
            await gql(POST, staff, p=portal["id"], b="message while everybody was away")
            started = time.perf_counter()
            await gather_limited(
                [subscribing(i, cursor_before["timelineCursor"]) for i in range(n)]
            )
            await clients.wait_for(1, 600)
            row["reconnect_all_s"] = time.perf_counter() - started
            print(f"{'':>8}  {n} clients reconnected and resumed in {row['reconnect_all_s']:.1f} s")
            return row, json.dumps({"id": "1", "type": "next", "payload": {"data": {}}})
    finally:
        await clients.close()
        server.terminate()
        server.wait(10)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="record the GraphQL server's stacks while the messages are delivered, with "
        "py-spy (pip install py-spy), into FILE in its raw (collapsed) format",
    )
    parser.add_argument(
        "--tracing",
        action="store_true",
        help="run the GraphQL server with tracing on (OpenTelemetry, console exporter)",
    )
    parser.add_argument("--graphql-only", action="store_true", help="skip the raw broadcast server")
    args = parser.parse_args()
    print(f"{args.subscribers} subscribers, {args.messages} messages, {os.cpu_count()} cores")
    print(f"tracing {'on' if args.tracing else 'off'}")
    graphql, _ = await bench_graphql(args.subscribers, args.messages, args.profile, args.tracing)
    if args.graphql_only:
        return
    frame = json.dumps({"id": "1", "type": "next", "payload": {"data": {"projectTimeline": {
        "__typename": "MicropostPosted", "cursor": "ZXZlbnQ6MTI=", "occurredAt":
        "2026-11-22T20:00:00+00:00", "actor": {"name": "Sam Account-Manager"},
        "micropost": {"id": "TWljcm9wb3N0OjEy", "body": "message 1",
        "replyCount": 0}}}}})  # fmt: skip
    raw = await bench_raw(args.subscribers, args.messages, frame)
    ratio = graphql["cpu_us_per_delivery"] / raw["cpu_us_per_delivery"]
    memory = graphql["rss_bytes_per_connection"] / max(raw["rss_bytes_per_connection"], 1)
    print(
        f"   ratio: CPU/delivery GraphQL ÷ raw = {ratio:.1f}×   memory/connection = {memory:.1f}×"
    )


if __name__ == "__main__":
    asyncio.run(main())
