"""Fan-out cost of the projectTimeline subscription against a raw websocket broadcast and a
Node.js graphql-ws peer, driven by the same client in one run.

Starts each server as its own process on a loopback port: the extranet server (a fresh
SQLite database with demo data and ``memory://`` fan-out), benchmarks/raw_broadcast.py
(one pre-serialised frame sent to every socket) and benchmarks/node_peer/server.mjs
(graphql-js and graphql-ws). For each it connects N websocket clients (spread over client
processes), sends M messages, each once every client received the previous one, and prints:
server CPU per delivered message (from /proc, so the clients' CPU is not counted; the CPU
of the same posts made before anybody subscribed is subtracted), publish-to-receive latency
p50/p99, server memory per idle subscribed connection (growth of the RSS while they
subscribe, divided by N), and the reconnect storm: all N clients drop their sockets and
come back at once resuming from their cursor (wall time for all, server CPU per
reconnect). Then the ratios product ÷ raw and product ÷ peer; with ``--runs``, the median
and range of every figure and ratio over the runs.

    .venv/bin/python benchmarks/fanout.py --subscribers 2000 --messages 20 --runs 3
    .venv/bin/python benchmarks/fanout.py --subscribers 2000 --compression off --runs 3
    .venv/bin/python benchmarks/fanout.py --subscribers 10000 --messages 10 --client-processes 2
    .venv/bin/python benchmarks/fanout.py --processes 2 --subscribers 4000 --messages 20

``--processes 2``: the product alone, on a fresh PostgreSQL database and Redis, with one
server process and then with two (the subscribers split across them), the messages posted
in a burst: deliveries per second and per CPU second of the two against the one.

The Node.js peer runs when ``node`` is on the PATH and its packages are installed
(``npm ci --prefix benchmarks/node_peer``); its server offers permessage-deflate as
``--peer-compression`` says (by default as ws does: not at all).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PEER_DIR = ROOT / "benchmarks" / "node_peer"
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
SECRET = "benchmark-secret-key-that-is-long-enough"  # noqa: S105 (a benchmark's own)
POSTGRES = "postgres://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/11"


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of process ``pid`` so far, in seconds (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_bytes(pid: int) -> int:
    """Resident memory of process ``pid``, in bytes."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def raise_open_files() -> int:
    """Lift this process's soft limit of open files to the hard one (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = 1 << 20 if hard == resource.RLIM_INFINITY else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_http(url: str, process: subprocess.Popen[bytes] | None = None) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(1200):
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"the server for {url} exited with {process.returncode}")
            try:
                await http.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


async def gather_limited(jobs: Sequence[Callable[[], Awaitable[None]]], limit: int = 200) -> None:
    """Run ``jobs``, at most ``limit`` at a time."""
    gate = asyncio.Semaphore(max(1, limit))

    async def run(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(run(job) for job in jobs))


# ---- the client: runs in its own processes (``--client-worker``) -------------------------


def counts(frame: Any) -> bool:
    """Whether a received frame is one of the benchmark's messages (same shape everywhere)."""
    if frame.get("type") != "next":
        return False
    event = frame["payload"]["data"]["projectTimeline"]
    return bool(event["micropost"]["body"].startswith(("message", "warm-up")))


class Clients:
    """Websocket clients that time-stamp (``time.monotonic``) every message they receive.

    ``spec`` says how to reach the server: ``kind`` ``graphql`` (graphql-transport-ws:
    ``connection_init`` with a token of ``tokens``, taken in turn, then a ``subscribe`` to
    ``projectTimeline`` of ``project``) or ``raw`` (a ``resume`` message); ``urls`` taken in
    turn by the client's index; ``compression`` whether to offer permessage-deflate."""

    def __init__(self) -> None:
        self.sockets: list[Any] = []
        self.received: list[list[float]] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.compressed = 0  # connections made with permessage-deflate
        self.refused = 0  # sockets the server closed before acknowledging them

    async def _reader(self, index: int, ws: Any, on_frame: Callable[[Any], bool]) -> None:
        try:
            async for raw in ws:
                if on_frame(json.loads(raw)):
                    self.received[index].append(time.monotonic())
        except websockets.ConnectionClosed:
            pass

    def start_reading(self, index: int, ws: Any, on_frame: Callable[[Any], bool] = counts) -> None:
        """Time-stamp the frames of ``ws`` for which ``on_frame`` is true in ``received[index]``."""
        self.tasks.append(asyncio.create_task(self._reader(index, ws, on_frame)))

    async def connect(self, spec: dict[str, Any], index: int, after: Any) -> None:
        """Connect and subscribe; a socket the server closes before it is acknowledged is
        opened again 5 s later (the product asks so when it sheds load), counted in
        ``refused``."""
        for _attempt in range(10):
            try:
                ws = await self._open(spec, index, after)
                break
            except (websockets.ConnectionClosed, websockets.InvalidStatus):
                self.refused += 1
                await asyncio.sleep(5)
        else:
            raise RuntimeError(f"client {index} refused ten times")
        self.sockets.append(ws)
        self.received.append([])
        self.start_reading(len(self.received) - 1, ws)
        self.compressed += bool(ws.protocol.extensions)  # permessage-deflate was agreed

    async def _open(self, spec: dict[str, Any], index: int, after: Any) -> Any:
        url = spec["urls"][index % len(spec["urls"])]
        # a loaded server may take long to answer a handshake or a ping: wait for it
        options: dict[str, Any] = {
            "max_queue": None,
            "compression": "deflate" if spec["compression"] else None,
            "open_timeout": 600,
            "ping_interval": None,
        }
        if spec["kind"] == "raw":
            ws = await websockets.connect(url, **options)
            await ws.send(json.dumps({"type": "resume", "after": after}))
        else:
            ws = await websockets.connect(
                url,
                subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                **options,
            )
            token = spec["tokens"][index % len(spec["tokens"])]
            init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
            await ws.send(json.dumps(init))
            reply = json.loads(await ws.recv())
            assert reply["type"] == "connection_ack", reply
            variables = {"p": spec["project"], "after": after}
            subscribe = {"query": TIMELINE, "variables": variables}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        return ws

    async def wait_for(self, count: int, within: float) -> None:
        deadline = time.monotonic() + within
        while any(len(r) < count for r in self.received):
            if time.monotonic() > deadline:
                short = sum(1 for r in self.received if len(r) < count)
                raise TimeoutError(f"{short} clients still waiting for message {count}")
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        self.sockets.clear()
        self.received.clear()
        self.tasks.clear()
        self.compressed = 0
        self.refused = 0


async def client_worker() -> None:
    """Serve the commands of ``ClientPool`` read as JSON lines on stdin, one reply a line."""
    clients = Clients()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        reply: dict[str, Any] = {}
        try:
            if command["op"] == "connect":
                spec, after = command["spec"], command["after"]
                jobs = [partial(clients.connect, spec, i, after) for i in command["indices"]]
                await gather_limited(jobs, command["limit"])
                if command["wait"]:
                    await clients.wait_for(command["wait"], command["within"])
                reply["compressed"] = clients.compressed
                reply["refused"] = clients.refused
            elif command["op"] == "wait":
                await clients.wait_for(command["count"], command["within"])
            elif command["op"] == "reset":
                for received in clients.received:
                    received.clear()
            elif command["op"] == "times":
                reply["times"] = clients.received
            elif command["op"] == "close":
                await clients.close()
        except Exception as error:  # reported to the driver, which stops the run
            reply["error"] = f"{type(error).__name__}: {error}"
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    await clients.close()


class ClientPool:
    """Client processes (``--client-worker``), the subscribers dealt among them."""

    def __init__(self, processes: int, handshakes: int) -> None:
        self.count = processes
        self.handshakes = handshakes  # at a time, over all the processes
        self.workers: list[asyncio.subprocess.Process] = []

    async def start(self) -> None:
        for _ in range(self.count):
            self.workers.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    __file__,
                    "--client-worker",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    limit=1 << 26,
                    cwd=ROOT,
                )
            )

    async def stop(self) -> None:
        for worker in self.workers:
            if worker.stdin is not None:
                worker.stdin.close()
        for worker in self.workers:
            try:
                await asyncio.wait_for(worker.wait(), 30)
            except TimeoutError:
                worker.kill()
        self.workers.clear()

    @property
    def pids(self) -> list[int]:
        return [worker.pid for worker in self.workers]

    async def _ask(self, worker: asyncio.subprocess.Process, command: dict[str, Any]) -> Any:
        assert worker.stdin is not None
        assert worker.stdout is not None
        worker.stdin.write((json.dumps(command) + "\n").encode())
        await worker.stdin.drain()
        reply = json.loads(await worker.stdout.readline())
        if "error" in reply:
            raise RuntimeError(f"client process {worker.pid}: {reply['error']}")
        return reply

    async def ask_all(self, **command: Any) -> list[Any]:
        return await asyncio.gather(*(self._ask(w, command) for w in self.workers))

    async def connect(
        self, spec: dict[str, Any], n: int, after: Any = None, wait: int = 0
    ) -> tuple[int, int]:
        """N clients, client i in process i mod the number of processes; ``wait``: until
        each received that many messages. Returns how many use permessage-deflate, and how
        many times a socket was closed before it was acknowledged and opened again."""
        replies = await asyncio.gather(
            *(
                self._ask(
                    worker,
                    {
                        "op": "connect",
                        "spec": spec,
                        "after": after,
                        "wait": wait,
                        "within": 600,
                        "indices": list(range(k, n, self.count)),
                        "limit": max(1, self.handshakes // self.count),
                    },
                )
                for k, worker in enumerate(self.workers)
            )
        )

        return (
            sum(int(reply["compressed"]) for reply in replies),
            sum(int(reply["refused"]) for reply in replies),
        )

    async def wait_for(self, count: int, within: float = 600) -> None:
        await self.ask_all(op="wait", count=count, within=within)

    async def reset(self) -> None:
        await self.ask_all(op="reset")

    async def close(self) -> None:
        await self.ask_all(op="close")

    async def times(self) -> list[list[float]]:
        return [t for reply in await self.ask_all(op="times") for t in reply["times"]]

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids)


# ---- the servers ------------------------------------------------------------------------


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


class Server:
    """One side of the comparison: its processes, how to subscribe to it, how to post."""

    name = ""
    processes: list[subprocess.Popen[bytes]]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids)

    def rss(self) -> int:
        return sum(rss_bytes(pid) for pid in self.pids)

    http: httpx.AsyncClient | None = None

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        for process in self.processes:
            stop_process(process)
        if self.http is not None:
            await self.http.aclose()

    def spec(self, compression: bool) -> dict[str, Any]:
        raise NotImplementedError

    async def publish(self, body: str) -> None:
        raise NotImplementedError

    async def cursor(self) -> Any:
        """The cursor a client holding every message so far resumes after."""
        raise NotImplementedError


class Product(Server):
    """``extranet serve`` processes (one port each) on one database and fan-out."""

    name = "product"

    def __init__(
        self,
        n: int,
        processes: int = 1,
        database: str | None = None,
        broadcast: str = "memory://",
        tracing: bool = False,
    ) -> None:
        self.n, self.count, self.tracing = n, processes, tracing
        self.workdir = tempfile.mkdtemp(prefix="extranet-bench-")
        self.database = database or f"sqlite://{self.workdir}/bench.sqlite3"
        self.broadcast = broadcast
        self.ports = [free_port() for _ in range(processes)]
        self.processes = []
        self.tokens: dict[str, str] = {}
        self.project = ""

    async def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.database,
            "BROADCAST_URL": self.broadcast,
            "BROADCAST_NAMESPACE": f"bench-{uuid.uuid4().hex[:12]}",
            "EXTRANET_SECRET_KEY": SECRET,
            "EXTRANET_ACCESS_TOKEN_TTL": "3600",
            # a few demo users hold all the benchmark's sockets
            "EXTRANET_WS_MAX_CONNECTIONS_PER_USER": str(self.n),
        }
        if self.tracing:  # every span serialised by the console exporter into /dev/null
            env |= {"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "extranet-bench"}
        for step in (["migrate"], ["demo"]):
            subprocess.run([str(BIN / "extranet"), *step], env=env, check=True, capture_output=True)
        for port in self.ports:
            self.processes.append(
                subprocess.Popen(
                    [str(BIN / "extranet"), "serve", "--port", str(port)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port, process in zip(self.ports, self.processes, strict=True):
            await wait_http(f"http://127.0.0.1:{port}/healthz", process)
        self.http = httpx.AsyncClient(timeout=120)
        for email in READERS:
            self.tokens[email] = (await self.gql(LOGIN, email=email))["login"]["accessToken"]
        edges = (await self.gql(PROJECTS, self.tokens[READERS[0]]))["projects"]["edges"]
        [portal] = [e["node"] for e in edges if e["node"]["name"].startswith("Warehouse")]
        self.project = portal["id"]

    async def stop(self) -> None:
        await super().stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    async def gql(self, query: str, token: str = "", **variables: Any) -> dict[str, Any]:
        assert self.http is not None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        reply = await self.http.post(
            f"http://127.0.0.1:{self.ports[0]}/graphql",
            json={"query": query, "variables": variables},
            headers=headers,
        )
        return dict(reply.json()["data"])

    def spec(self, compression: bool) -> dict[str, Any]:
        return {
            "kind": "graphql",
            "urls": [f"ws://127.0.0.1:{port}/graphql" for port in self.ports],
            "tokens": [self.tokens[email] for email in READERS],
            "project": self.project,
            "compression": compression,
        }

    async def publish(self, body: str) -> None:
        await self.gql(POST, self.tokens["sam@provider.example"], p=self.project, b=body)

    async def cursor(self) -> Any:
        edges = (await self.gql(PROJECTS, self.tokens[READERS[0]]))["projects"]["edges"]
        return next(e["node"] for e in edges if e["node"]["id"] == self.project)["timelineCursor"]


class RawBroadcast(Server):
    """benchmarks/raw_broadcast.py under uvicorn, as the product runs (websockets-sansio)."""

    name = "raw"

    def __init__(self) -> None:
        self.port = free_port()
        self.processes = []
        self.sent = 0

    async def start(self) -> None:
        self.processes.append(
            subprocess.Popen(
                [
                    str(BIN / "uvicorn"),
                    "benchmarks.raw_broadcast:app",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                    "--ws",
                    "websockets-sansio",
                ],
                cwd=ROOT,
            )
        )
        await wait_http(f"http://127.0.0.1:{self.port}/broadcast", self.processes[0])
        self.http = httpx.AsyncClient(timeout=120)

    def spec(self, compression: bool) -> dict[str, Any]:
        return {
            "kind": "raw",
            "urls": [f"ws://127.0.0.1:{self.port}/ws"],
            "compression": compression,
        }

    async def publish(self, body: str) -> None:
        assert self.http is not None
        self.sent += 1
        frame = {"id": "1", "type": "next", "payload": {"data": {"projectTimeline": {
            "__typename": "MicropostPosted", "cursor": f"ZXZlbnQ6{self.sent}",
            "occurredAt": "2026-11-22T20:00:00+00:00", "actor": {"name": "Sam Account-Manager"},
            "micropost": {"id": "TWljcm9wb3N0OjEy", "body": body, "replyCount": 0}}}}}  # fmt: skip
        reply = await self.http.post(
            f"http://127.0.0.1:{self.port}/broadcast", content=json.dumps(frame)
        )
        self.sent = int(reply.text)

    async def cursor(self) -> Any:
        return self.sent


def peer_available() -> str | None:
    """Why the Node.js peer cannot run, or None when it can."""
    if shutil.which("node") is None:
        return "node is not on the PATH (Node.js 20 or later)"
    if not (PEER_DIR / "node_modules" / "graphql-ws").is_dir():
        return "its packages are not installed: npm ci --prefix benchmarks/node_peer"
    return None


class NodePeer(Server):
    """benchmarks/node_peer/server.mjs: graphql-js and graphql-ws over ws."""

    name = "peer"

    def __init__(self, compression: str) -> None:
        self.port = free_port()
        self.compression = compression  # default (ws's: none), on or off
        self.processes = []
        self.last = ""

    async def start(self) -> None:
        self.processes.append(
            subprocess.Popen(
                [
                    shutil.which("node") or "node",
                    str(PEER_DIR / "server.mjs"),
                    "--port",
                    str(self.port),
                    "--compression",
                    self.compression,
                ],
                stdout=subprocess.DEVNULL,
            )
        )
        await wait_http(f"http://127.0.0.1:{self.port}/healthz", self.processes[0])
        self.http = httpx.AsyncClient(timeout=120)

    def spec(self, compression: bool) -> dict[str, Any]:
        return {
            "kind": "graphql",
            "urls": [f"ws://127.0.0.1:{self.port}/graphql"],
            "tokens": ["peer-token"],
            "project": "UHJvamVjdDox",
            "compression": compression,
        }

    async def publish(self, body: str) -> None:
        assert self.http is not None
        reply = await self.http.post(
            f"http://127.0.0.1:{self.port}/publish",
            json={"projectId": "UHJvamVjdDox", "body": body, "actor": "Sam Account-Manager"},
        )
        self.last = reply.json()["cursor"]

    async def cursor(self) -> Any:
        return self.last


# ---- one measurement --------------------------------------------------------------------


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


@contextlib.asynccontextmanager
async def running(server: Server) -> AsyncIterator[Server]:
    try:
        await server.start()
        yield server
    finally:
        await server.stop()


async def measure(
    server: Server,
    pool: ClientPool,
    n: int,
    m: int,
    compression: bool,
    profile: str | None = None,
    burst: bool = False,
) -> dict[str, float]:
    """Subscribe N clients, deliver M messages, reconnect all; the figures of one server.

    Keys: ``cpu_us_per_delivery`` (µs of server CPU per message delivered to one client),
    ``p50_ms``/``p99_ms`` (publish to receive), ``kib_per_connection`` (server RSS growth
    per idle subscribed connection), ``deliveries_per_s`` (wall), ``deliveries_per_cpu_s``,
    ``client_cpu_pct`` (CPU of the busiest client process while the messages are delivered,
    percent of one core), ``reconnect_s`` (all N reconnected and resumed),
    ``cpu_ms_per_reconnect``, ``client_cpu_pct_reconnect`` (busiest client process during
    the storm), ``compressed_share`` (connections with permessage-deflate agreed).
    ``burst``: post the M messages one after the other without waiting for their delivery
    (throughput), instead of each after the previous arrived."""
    spec = server.spec(compression)
    cpu0 = server.cpu()  # the posts' own CPU, before anybody subscribes
    for k in range(m):
        await server.publish(f"unobserved {k}")
    posts_only = server.cpu() - cpu0

    rss0 = server.rss()
    compressed, refused = await pool.connect(spec, n)
    await asyncio.sleep(2)  # every subscription registered
    memory = (server.rss() - rss0) / n

    for k in range(2):  # warm-up: first use of every code path
        await server.publish(f"warm-up {k}")
        await pool.wait_for(k + 1)
    await pool.reset()

    sent: list[float] = []
    profiler = start_profiler(server.pids[0], profile)
    clients0 = [cpu_seconds(pid) for pid in pool.pids]
    cpu0, wall0 = server.cpu(), time.monotonic()
    for k in range(m):
        sent.append(time.monotonic())
        await server.publish(f"message {k}")
        if not burst:
            await pool.wait_for(k + 1)
    await pool.wait_for(m)
    cpu = server.cpu() - cpu0 - posts_only
    clients = [cpu_seconds(pid) - c for pid, c in zip(pool.pids, clients0, strict=True)]
    loop_wall = time.monotonic() - wall0
    stop_profiler(profiler)
    times = await pool.times()
    wall = max(t[m - 1] for t in times) - wall0
    lat = sorted((at - sent[k]) * 1000 for t in times for k, at in enumerate(t[:m]))
    row = {
        "cpu_us_per_delivery": cpu / (n * m) * 1e6,
        "p50_ms": statistics.median(lat),
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "kib_per_connection": memory / 1024,
        "deliveries_per_s": n * m / wall,
        "deliveries_per_cpu_s": n * m / max(cpu, 1e-9),
        "client_cpu_pct": max(clients) / loop_wall * 100,
        "compressed_share": compressed / n,
    }

    cursor = await server.cursor()
    await pool.close()
    await server.publish("message while everybody was away")
    clients0 = [cpu_seconds(pid) for pid in pool.pids]
    cpu0, started = server.cpu(), time.monotonic()
    _, refused_storm = await pool.connect(spec, n, after=cursor, wait=1)
    row["reconnect_s"] = time.monotonic() - started
    row["cpu_ms_per_reconnect"] = (server.cpu() - cpu0) / n * 1000
    clients = [cpu_seconds(pid) - c for pid, c in zip(pool.pids, clients0, strict=True)]
    row["client_cpu_pct_reconnect"] = max(clients) / row["reconnect_s"] * 100
    row["refused"] = refused + refused_storm
    await pool.close()
    print(
        f"{server.name:>8}: {row['cpu_us_per_delivery']:7.1f} µs CPU/delivery  "
        f"p50 {row['p50_ms']:6.1f} ms  p99 {row['p99_ms']:6.1f} ms  "
        f"{row['kib_per_connection']:6.1f} KiB/connection  "
        f"reconnect {row['reconnect_s']:5.2f} s, {row['cpu_ms_per_reconnect']:5.2f} ms CPU each  "
        f"(busiest client process {row['client_cpu_pct']:.0f} % of a core, "
        f"{row['client_cpu_pct_reconnect']:.0f} % in the storm; "
        f"permessage-deflate on {compressed} of {n}; {refused} + {refused_storm} sockets "
        "closed before acknowledged, opened again 5 s later)",
        flush=True,
    )
    return row


# ---- runs and ratios --------------------------------------------------------------------

FIGURES = [
    ("cpu_us_per_delivery", "server CPU per delivered message, µs"),
    ("p50_ms", "publish → receive p50, ms"),
    ("p99_ms", "publish → receive p99, ms"),
    ("kib_per_connection", "server memory per idle subscribed connection, KiB"),
    ("reconnect_s", "all clients reconnect and resume, s"),
    ("cpu_ms_per_reconnect", "server CPU per reconnect, ms"),
    ("client_cpu_pct", "busiest client process while delivering, % of a core"),
    ("client_cpu_pct_reconnect", "busiest client process in the storm, % of a core"),
]
RATIOS = ["cpu_us_per_delivery", "kib_per_connection", "reconnect_s", "cpu_ms_per_reconnect"]


def spread(values: list[float]) -> str:
    """``median (min to max)``, or the value alone for one run."""
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def report(runs: list[dict[str, dict[str, float]]]) -> None:
    print(f"\n== {len(runs)} run(s): median (range) ==")
    sides = list(runs[0])
    for key, label in FIGURES:
        cells = "   ".join(f"{side} {spread([r[side][key] for r in runs])}" for side in sides)
        print(f"{label}: {cells}")
    for base in sides[1:] if sides[0] == "product" else []:
        for key in RATIOS:
            ratios = [r["product"][key] / max(r[base][key], 1e-9) for r in runs]
            print(f"ratio product ÷ {base}, {key}: {spread(ratios)}×")


async def comparison(args: argparse.Namespace, pool: ClientPool) -> dict[str, dict[str, float]]:
    n, m, compression = args.subscribers, args.messages, args.compression == "on"
    run: dict[str, dict[str, float]] = {}
    if "product" in args.sides:
        async with running(Product(n, tracing=args.tracing)) as product:
            run["product"] = await measure(product, pool, n, m, compression, args.profile)
    if "raw" in args.sides:
        async with running(RawBroadcast()) as raw:
            run["raw"] = await measure(raw, pool, n, m, compression)
    if "peer" in args.sides:
        async with running(NodePeer(args.peer_compression)) as peer:
            run["peer"] = await measure(peer, pool, n, m, compression)
    for base in list(run)[1:] if "product" in run else []:
        ratios = "  ".join(
            f"{key} {run['product'][key] / max(run[base][key], 1e-9):.2f}×" for key in RATIOS
        )
        print(f"   product ÷ {base}: {ratios}")
    return run


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database on POSTGRES, dropped afterwards; yields its URL."""
    name = f"extranet_bench_{uuid.uuid4().hex[:10]}"
    common = ["-h", "127.0.0.1", "-U", "postgres"]
    createdb, dropdb = shutil.which("createdb"), shutil.which("dropdb")
    if createdb is None or dropdb is None:
        raise SystemExit("--processes needs PostgreSQL's createdb and dropdb on the PATH")
    subprocess.run([createdb, *common, name], check=True)
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        subprocess.run([dropdb, *common, "--force", name], check=False)


async def scale_out(args: argparse.Namespace, pool: ClientPool) -> dict[str, dict[str, float]]:
    n, m, compression = args.subscribers, args.messages, args.compression == "on"
    run: dict[str, dict[str, float]] = {}
    for count in (1, args.processes):
        with postgres_database() as url:
            server = Product(n, processes=count, database=url, broadcast=REDIS)
            server.name = f"{count} proc"
            async with running(server):
                run[f"{count}p"] = await measure(server, pool, n, m, compression, burst=True)
        print(f"{'':>8}  {run[f'{count}p']['deliveries_per_s']:,.0f} deliveries/s, "
              f"{run[f'{count}p']['deliveries_per_cpu_s']:,.0f} per CPU second")  # fmt: skip
    one, more = run["1p"], run[f"{args.processes}p"]
    print(
        f"   {args.processes} processes ÷ 1: deliveries/s "
        f"{more['deliveries_per_s'] / one['deliveries_per_s']:.2f}×, per CPU second "
        f"{more['deliveries_per_cpu_s'] / one['deliveries_per_cpu_s']:.2f}×"
    )
    return run


def report_scale_out(runs: list[dict[str, dict[str, float]]], processes: int) -> None:
    print(f"\n== {len(runs)} run(s): median (range) ==")
    for side in runs[0]:
        print(
            f"{side}: deliveries/s {spread([r[side]['deliveries_per_s'] for r in runs])}, "
            f"per CPU s {spread([r[side]['deliveries_per_cpu_s'] for r in runs])}, "
            f"CPU/delivery {spread([r[side]['cpu_us_per_delivery'] for r in runs])} µs, "
            f"client {spread([r[side]['client_cpu_pct'] for r in runs])} % of a core"
        )
    key = f"{processes}p"
    for figure in ("deliveries_per_s", "deliveries_per_cpu_s"):
        ratios = [r[key][figure] / r["1p"][figure] for r in runs]
        print(f"ratio {processes} processes ÷ 1, {figure}: {spread(ratios)}×")


def write_json(path: str, value: Any) -> None:
    Path(path).write_text(json.dumps(value, indent=1))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1, help="repeat; median and range")
    parser.add_argument(
        "--compression",
        choices=["on", "off"],
        default="on",
        help="clients offer permessage-deflate (on: as browsers do; the product and the raw "
        "server accept it, uvicorn's default; the Node.js peer as --peer-compression says) "
        "or not (off: no side compresses)",
    )
    parser.add_argument(
        "--peer",
        choices=["node", "none"],
        help="compare with the Node.js graphql-ws peer (default: when node and its packages "
        "are installed)",
    )
    parser.add_argument(
        "--peer-compression",
        choices=["default", "on", "off"],
        default="default",
        help="permessage-deflate on the Node.js peer's server: ws's default (not offered), "
        "on (ws's default parameters: frames under 1,024 bytes go uncompressed) or off",
    )
    parser.add_argument(
        "--client-processes",
        type=int,
        help="client processes the subscribers are dealt among (default: one per 5,000)",
    )
    parser.add_argument(
        "--handshakes", type=int, default=200, help="websocket handshakes at a time (all clients)"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="above 1: the scale-out measurement (product only, PostgreSQL and Redis): that "
        "many server processes against one",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="record the product server's stacks while the messages are delivered, with "
        "py-spy (pip install py-spy), into FILE in its raw (collapsed) format",
    )
    parser.add_argument(
        "--tracing",
        action="store_true",
        help="run the product server with tracing on (OpenTelemetry, console exporter)",
    )
    parser.add_argument("--graphql-only", action="store_true", help="the product alone")
    parser.add_argument(
        "--sides",
        default="product,raw,peer",
        help="which servers to measure, comma-separated (default: all three)",
    )
    parser.add_argument("--json", metavar="FILE", help="write every run's figures to FILE")
    parser.add_argument("--client-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client_worker:
        await client_worker()
        return

    args.sides = [side.strip() for side in args.sides.split(",")]
    if unknown := set(args.sides) - {"product", "raw", "peer"}:
        parser.error(f"--sides: unknown {', '.join(sorted(unknown))}")
    if args.graphql_only:
        args.sides = ["product"]
    files = raise_open_files()
    if args.peer is None:
        missing = peer_available()
        args.peer = "none" if missing else "node"
        if missing and "peer" in args.sides and args.processes == 1:
            print(f"Node.js peer left out: {missing}")
    elif args.peer == "node" and (missing := peer_available()):
        parser.error(f"--peer node: {missing}")
    if args.peer == "none":
        args.sides = [side for side in args.sides if side != "peer"]
    processes = args.client_processes or max(1, math.ceil(args.subscribers / 5000))
    print(
        f"{args.subscribers} subscribers, {args.messages} messages, {os.cpu_count()} cores, "
        f"{processes} client process(es), open files {files}, compression {args.compression} "
        f"(peer {args.peer_compression}), "
        f"tracing {'on' if args.tracing else 'off'}",
        flush=True,
    )
    pool = ClientPool(processes, args.handshakes)
    await pool.start()
    runs: list[dict[str, dict[str, float]]] = []
    try:
        for k in range(args.runs):
            if args.runs > 1:
                print(f"-- run {k + 1} of {args.runs}", flush=True)
            if args.processes > 1:
                runs.append(await scale_out(args, pool))
            else:
                runs.append(await comparison(args, pool))
    finally:
        await pool.stop()
    if args.json:
        write_json(args.json, {"args": vars(args), "runs": runs})
    if args.processes > 1:
        report_scale_out(runs, args.processes)
    elif args.runs > 1 or len(runs[0]) > 1:
        report(runs)


if __name__ == "__main__":
    asyncio.run(main())
