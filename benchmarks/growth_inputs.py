"""Time per request as what a request carries grows: the work stays bounded by the limits.

Serves the application under uvicorn on a loopback port (a fresh SQLite database,
development settings, the default limits) and sends, as a signed-in contact, each shape
at growing sizes:

* ``body``: a request of n bytes (a comment padding the document's variables), sent over a
  raw socket with its ``Content-Length``; the time is until the answer's first byte, and
  ``read`` is how much of the body had been sent by then (a refused body is not read:
  413 at once, whatever its size);
* ``chunked``: the same body without ``Content-Length`` (chunked): read up to the limit;
* ``ids``: ``markNotificationsRead`` with n IDs (refused over 100 items; over the body
  limit, 413);
* ``text``: ``postMicropost`` whose body is n characters (the action refuses over 5,000;
  the input check over 20,000);
* ``nul``: the same text with a NUL at its end (refused before any resolver runs).

For each size it prints the median of ``--repeat`` requests, its ratio to the smallest
size's time and the ratio of the sizes: growth no faster than the size shows as a time
ratio no larger than the size ratio.

    .venv/bin/python benchmarks/growth_inputs.py [--repeat 5] [--shape body ...]
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _app import benchmark_app  # noqa: E402

from domain.tokens import issue_access_token  # noqa: E402
from graphql_schema.relay import global_id  # noqa: E402
from tests.live import serve  # noqa: E402
from tests.world import build_world  # noqa: E402

POST = """mutation ($p: ID!, $b: String!) {
  postMicropost(input: { projectId: $p, body: $b }) { micropost { id } } }"""
MARK = """mutation ($ids: [ID!]) {
  markNotificationsRead(input: { notificationIds: $ids }) { marked } }"""
CHUNK = 64 * 1024


async def _exchange(
    address: str, head: bytes, body: bytes, chunked: bool
) -> tuple[int, int, bytes]:
    """Send a request, and stop sending once the answer begins; answer (status, bytes of
    the body sent by then, the rest of the answer)."""
    host, port = address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    answer = asyncio.ensure_future(reader.readline())
    sent = 0
    try:
        writer.write(head)
        for start in range(0, len(body), CHUNK):
            if answer.done():
                break
            piece = body[start : start + CHUNK]
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            await writer.drain()
            sent += len(piece)
            await asyncio.sleep(0)
        else:
            if chunked:
                writer.write(b"0\r\n\r\n")
        status_line = await answer
    except (ConnectionError, OSError):
        status_line = await answer
    try:
        rest = await reader.read()
    except (ConnectionError, OSError):
        rest = b""  # closed with the request unread: the status line came first
    writer.close()
    return int(status_line.split()[1]), sent, rest


def _head(address: str, token: str, length: int | None) -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\n{framing}\r\nConnection: close\r\n\r\n"
    ).encode()


def _padded(_world: Any, size: int) -> bytes:
    padding = "x" * max(0, size - 60)
    return json.dumps({"query": "{ me { name } }", "variables": {"pad": padding}}).encode()


def _ids(_world: Any, size: int) -> bytes:
    ids = [global_id("Notification", 1)] * size
    return json.dumps({"query": MARK, "variables": {"ids": ids}}).encode()


def _text(world: Any, size: int, end: str = "") -> bytes:
    variables = {"p": global_id("Project", world.portal.id), "b": "a" * size + end}
    return json.dumps({"query": POST, "variables": variables}).encode()


def _nul(world: Any, size: int) -> bytes:
    return _text(world, size, "\x00")


async def _send(address: str, token: str, content: bytes, chunked: bool) -> tuple[str, str]:
    length = None if chunked else len(content)
    status, sent, rest = await _exchange(address, _head(address, token, length), content, chunked)
    try:
        answer = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    except (IndexError, ValueError):
        answer = {}
    errors = answer.get("errors") or []
    code = (errors[0].get("extensions") or {}).get("code", "") if errors else ""
    return f"{status} {code}".strip(), f"{sent:,}"


SIZES = [1_000, 10_000, 100_000, 1_000_000, 10_000_000, 30_000_000]
SHAPES: dict[str, tuple[Callable[[Any, int], bytes], bool, list[int]]] = {
    "body": (_padded, False, SIZES),
    "chunked": (_padded, True, SIZES),
    "ids": (_ids, False, [10, 100, 101, 1_000, 10_000, 100_000, 200_000]),
    "text": (_text, False, [1_000, 5_000, 20_000, 20_001, 200_000, 2_000_000]),
    "nul": (_nul, False, [1_000, 10_000, 100_000, 1_000_000, 2_000_000]),
}


async def run(shapes: list[str], repeat: int) -> None:
    async with benchmark_app() as app, serve(app) as address:
        settings = app.state.settings
        world = await build_world(app.state.bus)
        token = issue_access_token(settings, world.max.id, "benchmark")
        print(
            f"{'shape':<8} {'size':>11} {'median ms':>10} {'time ×':>7} {'size ×':>8}  "
            f"{'outcome':<22} read"
        )
        for name in shapes:
            build, chunked, sizes = SHAPES[name]
            smallest: float | None = None
            for size in sizes:
                content = build(world, size)
                times = []
                outcome = read = ""
                for _ in range(repeat):
                    started = time.perf_counter()
                    outcome, read = await _send(address, token, content, chunked)
                    times.append(time.perf_counter() - started)
                median = statistics.median(times) * 1000
                smallest = smallest or median
                print(
                    f"{name:<8} {size:>11,} {median:>10.2f} {median / smallest:>7.1f} "
                    f"{size / sizes[0]:>8.1f}  {outcome:<22} {read}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES))
    args = parser.parse_args()
    asyncio.run(run(args.shape or list(SHAPES), args.repeat))


if __name__ == "__main__":
    main()
