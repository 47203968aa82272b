"""Counting 10,000 websockets in Redis at once: what a reconnect storm asks of one process.

Opens N sockets at once through the process's socket registry and activity store (as
``on_ws_connect`` does: count, then mark in the foreground), closes them all at once (as a
socket's end does), and opens them again. Prints, for each phase, the wall time, this
process's CPU time, the connections its pool opened (the most it used at once), the
operations that failed, and the entries (sockets counted, sockets in the foreground) Redis
holds afterwards.

    .venv/bin/python benchmarks/socket_count.py --url redis://127.0.0.1:6379/0 --sockets 10000
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from infra.redis_clients import RedisConnections
from realtime.activity import activity_store
from realtime.sockets import socket_registry


def _pool_size(connections: RedisConnections) -> int:
    """Connections the process's pool holds (it keeps those it opened): the most it used."""
    pool: Any = connections._pool
    return len(pool._available_connections) + len(pool._in_use_connections)


async def _phase(
    name: str,
    connections: RedisConnections,
    runs: list[Callable[[], Awaitable[bool]]],
    entries: Callable[[], Any],
    wave: int,
) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    done: list[object] = []
    for start in range(0, len(runs), wave):
        batch = runs[start : start + wave]
        done += await asyncio.gather(*(run() for run in batch), return_exceptions=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    failed = sum(1 for d in done if d is not True)
    print(
        f"{name:>8}: {len(runs)} sockets in {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU;"
        f" {_pool_size(connections)} Redis connections in the pool; {failed} failed;"
        f" entries in Redis after: {await entries()}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=500, help="the sockets taken in turns")
    parser.add_argument("--wave", type=int, default=0, help="opened at once (default: all)")
    args = parser.parse_args()
    wave = args.wave or args.sockets
    namespace = f"bench-{secrets.token_hex(4)}"
    limit = -(-args.sockets // args.users)  # exactly what each user holds
    connections = RedisConnections(args.url)
    sockets = socket_registry(connections, namespace)
    activity = activity_store(connections, namespace)
    probe: Any = aioredis.from_url(args.url)
    keys: dict[int, str] = {}

    async def entries() -> tuple[int, int]:
        counted = foreground = 0
        async for key in probe.scan_iter(f"{namespace}.sockets.*", count=1000):
            counted += await probe.zcard(key)
        async for key in probe.scan_iter(f"{namespace}.activity.*", count=1000):
            foreground += await probe.zcard(key)
        return counted, foreground

    def opening(n: int) -> Callable[[], Awaitable[bool]]:
        async def run() -> bool:
            key = await sockets.open(n % args.users, limit)
            if key is None:
                return False
            keys[n] = key
            await activity.mark(n % args.users, key, True)
            return True

        return run

    def closing(n: int) -> Callable[[], Awaitable[bool]]:
        async def run() -> bool:
            key = keys.pop(n)
            try:
                await sockets.close(n % args.users, key)
                await activity.mark(n % args.users, key, False)
            except Exception:
                return False
            return True

        return run

    print(f"{args.sockets} sockets of {args.users} users, at most {limit} each, at {args.url}")
    try:
        everyone = range(args.sockets)
        await _phase("open", connections, [opening(n) for n in everyone], entries, wave)
        await _phase("close", connections, [closing(n) for n in list(keys)], entries, args.sockets)
        await _phase("reopen", connections, [opening(n) for n in everyone], entries, wave)
        await _phase("close", connections, [closing(n) for n in list(keys)], entries, args.sockets)
    finally:
        await sockets.aclose()
        await activity.close()
        await connections.aclose()
        async for key in probe.scan_iter(f"{namespace}.*", count=1000):
            await probe.delete(key)
        await probe.aclose()


if __name__ == "__main__":
    asyncio.run(main())
