"""Time per request for query shapes whose naive checking grows faster than their size.

Starts the application in this process (a fresh SQLite database, development settings,
the default request limits) and sends, anonymously over its ASGI interface, each shape at
growing sizes:

* ``chain``: fragment F0 spreads F1 twice, F1 spreads F2 twice, ... (n fragments); a walk
  that visits a fragment at every spread does 2^n work;
* ``tree``: n fragments in a tree, each spreading up to 20 others once (wide fragments);
* ``spreads``: n fragments spread at one place (refused: at most 20);
* ``meeting``: n fragments, each selecting ``customer { contacts { totalCount } }`` 20
  times, spread at one place (the merge check pairs all of them: refused from 2 on);
* ``aliases``: n aliases of one field (refused: at most 15 aliases);
* ``repeats``: ``me { name }`` n times (refused: the merge check compares them pairwise);
* ``lists``: three nested connections whose ``first`` is a variable, given the value n
  (the cost is computed from n; refused above the budget);
* ``variables``: a list variable of n IDs (``markNotificationsRead``).

Every request carries a unique comment, so the parse and validation caches never answer.
For each size it prints the median time of ``--repeat`` requests, its ratio to the
smallest size's time and the ratio of the sizes themselves: linear growth shows as a
time ratio no larger than the size ratio.

    .venv/bin/python benchmarks/growth_queries.py [--repeat 7] [--shape chain ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _app import benchmark_app  # noqa: E402

Request = tuple[str, dict[str, Any]]


def chain(n: int) -> Request:
    parts = ["query Q { ...F0 }"]
    parts += [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(n - 1)]
    parts.append(f"fragment F{n - 1} on Query {{ __typename }}")
    return " ".join(parts), {}


def tree(n: int) -> Request:
    children = {i: [c for c in range(20 * i + 1, 20 * i + 21) if c < n] for i in range(n)}
    parts = ["{ ...F0 }"]
    for i in range(n):
        spreads = " ".join(f"...F{c}" for c in children[i])
        parts.append(f"fragment F{i} on Query {{ __typename {spreads} }}")
    return " ".join(parts), {}


def spreads(n: int) -> Request:
    body = " ".join(f"...F{i}" for i in range(n))
    fragments = " ".join(f"fragment F{i} on Query {{ __typename }}" for i in range(n))
    return f"{{ {body} }} {fragments}", {}


def meeting(n: int) -> Request:
    spread = " ".join(f"...F{i}" for i in range(n))
    contacts = "contacts { totalCount } " * 20
    body = " ".join(f"fragment F{i} on User {{ customer {{ {contacts}}} }}" for i in range(n))
    return f"{{ me {{ {spread} }} }} {body}", {}


def aliases(n: int) -> Request:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(n)) + " }", {}


def repeats(n: int) -> Request:
    return "{ " + "me { name } " * n + "}", {}


LISTS = """query ($n: Int!) { projects(first: $n) { edges { node { timeline(first: $n) {
  edges { node { id replies(first: $n) { totalCount } } } } } } } }"""


def lists(n: int) -> Request:
    return LISTS, {"n": n}


MARK = """mutation ($ids: [ID!]) { markNotificationsRead(input: {notificationIds: $ids}) {
  __typename } }"""


def variables(n: int) -> Request:
    return MARK, {"ids": [f"Tm90aWZpY2F0aW9uOj{i:08d}" for i in range(n)]}


SHAPES: dict[str, tuple[Callable[[int], Request], list[int]]] = {
    "chain": (chain, [5, 10, 20, 40, 80, 160]),
    "tree": (tree, [5, 10, 20, 40, 80, 160]),
    "spreads": (spreads, [25, 50, 100, 200, 400]),
    "meeting": (meeting, [1, 2, 4, 8, 16]),
    "aliases": (aliases, [25, 50, 100, 200, 600]),
    "repeats": (repeats, [25, 50, 100, 200, 450]),
    "lists": (lists, [1, 10, 100, 10_000, 1_000_000]),
    "variables": (variables, [1_000, 4_000, 16_000, 64_000]),
}


def outcome(body: dict[str, Any]) -> str:
    errors = body.get("errors") or []
    if not errors:
        return "answered"
    extensions = errors[0].get("extensions") or {}
    return f"{extensions.get('code')} {extensions.get('limit') or ''}".strip()


async def run(shapes: list[str], repeat: int) -> None:
    async with benchmark_app() as app:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            print(
                f"{'shape':<10} {'size':>9} {'bytes':>9} {'median ms':>10} "
                f"{'time ×':>7} {'size ×':>7}  outcome"
            )
            serial = 0
            for name in shapes:
                build, sizes = SHAPES[name]
                smallest: float | None = None
                for size in sizes:
                    query, values = build(size)
                    times = []
                    result = ""
                    for _ in range(repeat):
                        serial += 1
                        payload = {"query": f"{query}\n# {serial}", "variables": values}
                        content = json.dumps(payload)
                        started = time.perf_counter()
                        response = await http.post(
                            "/graphql",
                            content=content,
                            headers={"content-type": "application/json"},
                        )
                        times.append(time.perf_counter() - started)
                        result = outcome(response.json())
                    median = statistics.median(times) * 1000
                    smallest = smallest or median
                    print(
                        f"{name:<10} {size:>9} {len(content):>9} {median:>10.2f} "
                        f"{median / smallest:>7.1f} {size / sizes[0]:>7.1f}  {result}"
                    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES))
    args = parser.parse_args()
    asyncio.run(run(args.shape or list(SHAPES), args.repeat))


if __name__ == "__main__":
    main()
