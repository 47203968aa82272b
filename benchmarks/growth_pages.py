"""Time per request for page work whose naive form grows faster than its input.

Starts the application in this process (a fresh SQLite database with the demo data,
development settings, served by uvicorn on a loopback port for the websocket shape) and
sends each shape at growing sizes:

* ``diff-alternating``: a page of n lines alternating ``a``/``b``, updated to ``b``/``a``;
  ``page { diff(fromRevision: 1, toRevision: 2) { hunks { oldStart } } }``;
* ``diff-checklist``: n lines ``- [ ] item``, updated to every other one checked (past
  about 2,800 lines the budget is spent and the diff is one replaced block: ``coarse``);
* ``diff-aliases``: the 600-line checklist diff asked for under n aliases in one query
  (computed once: the count of diff computations is printed);
* ``markdown-list`` and ``markdown-table``: ``createPage`` with a body of n characters of
  list items, or of table rows;
* ``presence``: n ``pagePresence`` windows on one page (50 per websocket, four people),
  then one of them toggles ``setPageEditing``: the time until every window has the
  update, and the reads of the page's sessions it took. The per-person window limit is
  lifted for this shape (four people hold all the windows).

Each diff request starts from an empty diff cache, so the diff is computed every time.
For each size it prints the median of ``--repeat`` runs, its ratio to the smallest size's
time, and the ratio of the sizes: linear growth shows as a time ratio no larger than the
size ratio (plus noise while the numbers are small).

    .venv/bin/python benchmarks/growth_pages.py [--repeat 5] [--shape diff-checklist ...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.typing import Subprotocol

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _app import benchmark_app  # noqa: E402

from app.demo import DEMO_PASSWORD, load_demo  # noqa: E402
from domain import diffing  # noqa: E402
from domain.diffing import DiffCache  # noqa: E402
from graphql_schema.pages import presence as page_presence  # noqa: E402
from realtime import presence  # noqa: E402
from realtime.bus import EventBus  # noqa: E402
from tests.live import serve  # noqa: E402

LOGIN = """mutation ($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken } }"""
PROJECTS = "{ projects(first: 1) { edges { node { id } } } }"
CREATE = """mutation ($p: ID!, $body: String!) {
  createPage(input: {projectId: $p, title: "Growth", body: $body}) { page { id } } }"""
UPDATE = """mutation ($id: ID!, $body: String!) {
  updatePage(input: {pageId: $id, baseRevision: 1, body: $body}) { page { revision } } }"""
DIFF = """query ($id: ID!) { page(id: $id) {
  diff(fromRevision: 1, toRevision: 2) { exact hunks { oldStart } } } }"""
PRESENCE = "subscription ($p: ID!) { pagePresence(pageId: $p) { people { editing } } }"
EDITING = """mutation ($p: ID!, $e: Boolean!) {
  setPageEditing(input: {pageId: $p, editing: $e}) { editing } }"""
READERS = ["anna@acme.example", "max@acme.example", "sam@provider.example"]
READERS.append("admin@provider.example")


def lines(items: list[str]) -> str:
    return "\n".join(items) + "\n"


class Client:
    def __init__(
        self, http: httpx.AsyncClient, tokens: dict[str, str], bus: EventBus, diffs: DiffCache[Any]
    ) -> None:
        self.http = http
        self.tokens = tokens
        self.bus = bus
        self.diffs = diffs  # the application's cache of page diffs

    async def __call__(self, query: str, as_user: str = "sam", **variables: Any) -> Any:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.tokens[as_user]}"},
        )
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        return body["data"]


async def page_with(client: Client, project: str, old: str, new: str) -> str:
    page = (await client(CREATE, p=project, body=old))["createPage"]["page"]["id"]
    await client(UPDATE, id=page, body=new)
    return str(page)


async def timed_diff(client: Client, page: str, query: str = DIFF) -> tuple[float, str]:
    client.diffs.clear()
    started = time.perf_counter()
    data = await client(query, as_user="max", id=page)
    elapsed = time.perf_counter() - started
    exact = data["page"].get("diff", {}).get("exact", True)
    return elapsed, "exact" if exact else "coarse"


Measure = Callable[[int], Awaitable[tuple[float, str]]]


def report(name: str, sizes: list[int], results: list[tuple[float, str]]) -> None:
    smallest = results[0][0]
    for size, (median, outcome) in zip(sizes, results, strict=True):
        print(
            f"{name:<17} {size:>7} {median * 1000:>10.1f} {median / smallest:>7.1f} "
            f"{size / sizes[0]:>7.1f}  {outcome}"
        )


async def run_shape(name: str, sizes: list[int], repeat: int, measure: Measure) -> None:
    results = []
    for size in sizes:
        times, outcome = [], ""
        for _ in range(repeat):
            elapsed, outcome = await measure(size)
            times.append(elapsed)
        results.append((statistics.median(times), outcome))
    report(name, sizes, results)


async def presence_shape(
    address: str, client: Client, project: str, sizes: list[int], repeat: int
) -> None:
    presence.WINDOWS_PER_PAGE = 10**9  # four people hold every window of this shape
    results = []
    for size in sizes:
        page = (await client(CREATE, p=project, body="Who is here?"))["createPage"]["page"]["id"]
        sockets: list[tuple[Any, int]] = []
        try:
            left, turn = size, 0
            while left:
                count = min(50, left)
                reader = READERS[turn % len(READERS)].split("@")[0]
                ws = await websockets.connect(
                    f"ws://{address}/graphql",
                    subprotocols=[Subprotocol("graphql-transport-ws")],
                    max_queue=None,
                )
                payload = {"authorization": f"Bearer {client.tokens[reader]}"}
                await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
                await ws.recv()
                for n in range(count):
                    message = {"query": PRESENCE, "variables": {"p": page}}
                    await ws.send(
                        json.dumps({"id": str(n), "type": "subscribe", "payload": message})
                    )
                sockets.append((ws, count))
                left -= count
                turn += 1

            async def first(ws: Any, count: int) -> None:
                seen: set[str] = set()
                while len(seen) < count:
                    seen.add(json.loads(await ws.recv())["id"])

            await asyncio.gather(*(first(ws, count) for ws, count in sockets))
            hub = page_presence.presence_hub(client.bus)
            while True:  # the arrivals' own looks are over
                settled = hub.reads
                await asyncio.sleep(0.5)
                if hub.reads == settled:
                    break

            async def drain(ws: Any) -> None:
                with contextlib.suppress(TimeoutError):
                    while True:
                        await asyncio.wait_for(ws.recv(), 0.2)

            await asyncio.gather(*(drain(ws) for ws, _ in sockets))
            times, reads = [], []
            for flip in range(repeat):
                before = hub.reads
                started = time.perf_counter()
                await client(EDITING, as_user="anna", p=page, e=flip % 2 == 0)

                async def updated(ws: Any, count: int, editing: bool) -> None:
                    waiting = {str(n) for n in range(count)}
                    while waiting:
                        message = json.loads(await ws.recv())
                        people = message["payload"]["data"]["pagePresence"]["people"]
                        if any(p["editing"] for p in people) is editing:
                            waiting.discard(message["id"])

                await asyncio.gather(*(updated(ws, n, flip % 2 == 0) for ws, n in sockets))
                times.append(time.perf_counter() - started)
                reads.append(hub.reads - before)
            results.append((statistics.median(times), f"{max(reads)} read(s) per change"))
        finally:
            for ws, _ in sockets:
                await ws.close()
    report("presence", sizes, results)


SHAPES = [
    "diff-alternating",
    "diff-checklist",
    "diff-aliases",
    "markdown-list",
    "markdown-table",
    "presence",
]


async def run(shapes: list[str], repeat: int) -> None:
    async with benchmark_app(EXTRANET_WS_MAX_SUBSCRIPTIONS="50") as app:
        bus = app.state.graphql.bus
        await load_demo(bus)
        async with serve(app) as address:
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                tokens = {}
                for email in [*READERS]:
                    response = await http.post(
                        "/graphql",
                        json={
                            "query": LOGIN,
                            "variables": {"email": email, "password": DEMO_PASSWORD},
                        },
                    )
                    tokens[email.split("@")[0]] = response.json()["data"]["login"]["accessToken"]
                client = Client(http, tokens, bus, app.state.graphql.process.diffs)
                project = (await client(PROJECTS, as_user="max"))["projects"]["edges"][0]["node"][
                    "id"
                ]
                await measure_shapes(shapes, repeat, client, project, address)


async def measure_shapes(
    shapes: list[str], repeat: int, client: Client, project: str, address: str
) -> None:
    print(f"{'shape':<17} {'size':>7} {'median ms':>10} {'time ×':>7} {'size ×':>7}  outcome")
    if "diff-alternating" in shapes:

        async def alternating(n: int) -> tuple[float, str]:
            old = lines(["a" if i % 2 == 0 else "b" for i in range(n)])
            new = lines(["b" if i % 2 == 0 else "a" for i in range(n)])
            return await timed_diff(client, await page_with(client, project, old, new))

        sizes = [6_250, 12_500, 25_000, 50_000, 99_000]
        await run_shape("diff-alternating", sizes, repeat, alternating)
    if "diff-checklist" in shapes:

        async def checklist(n: int) -> tuple[float, str]:
            old = lines(["- [ ] item"] * n)
            new = lines(["- [x] item" if i % 2 else "- [ ] item" for i in range(n)])
            return await timed_diff(client, await page_with(client, project, old, new))

        sizes = [300, 600, 1_200, 2_400, 4_800, 9_600, 18_000]
        await run_shape("diff-checklist", sizes, repeat, checklist)
    if "diff-aliases" in shapes:
        old = lines(["- [ ] item"] * 600)
        new = lines(["- [x] item" if i % 2 else "- [ ] item" for i in range(600)])
        page = await page_with(client, project, old, new)

        async def aliased(n: int) -> tuple[float, str]:
            fields = " ".join(
                f"d{i}: diff(fromRevision: 1, toRevision: 2) {{ hunks {{ oldStart }} }}"
                for i in range(n)
            )
            before = diffing.computations
            elapsed, _ = await timed_diff(
                client, page, f"query ($id: ID!) {{ page(id: $id) {{ {fields} }} }}"
            )
            return elapsed, f"{diffing.computations - before} diff computed"

        await run_shape("diff-aliases", [1, 2, 4, 8, 15], repeat, aliased)
    for shape, unit in (("markdown-list", "- a\n"), ("markdown-table", "|x|y|\n")):
        if shape not in shapes:
            continue

        async def markdown(n: int, unit: str = unit) -> tuple[float, str]:
            head = "|a|b|\n|-|-|\n" if unit.startswith("|") else ""
            body = (head + unit * (n // len(unit)))[:n]
            started = time.perf_counter()
            await client(CREATE, p=project, body=body)
            return time.perf_counter() - started, f"{len(body):,} characters"

        await run_shape(shape, [12_500, 25_000, 50_000, 100_000, 200_000], repeat, markdown)
    if "presence" in shapes:
        await presence_shape(address, client, project, [62, 125, 250, 500, 1_000], repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--shape", action="append", choices=SHAPES)
    args = parser.parse_args()
    asyncio.run(run(args.shape or SHAPES, args.repeat))


if __name__ == "__main__":
    main()
