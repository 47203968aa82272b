"""A process keeps one pool of Redis connections for all its stores, and closes it on stop."""

import time
from typing import Any

import redis.asyncio as aioredis

from app.main import create_app
from realtime.presence import Session
from tests.conftest import make_settings
from tests.services import RedisProcess


async def _connections(url: str) -> int:
    """Clients connected to the Redis at ``url``, the one asking left out."""
    probe: Any = aioredis.from_url(url)
    try:
        return len(await probe.client_list()) - 1
    finally:
        await probe.aclose()


async def test_every_store_of_a_process_shares_one_pool(own_redis: RedisProcess) -> None:
    # given an application on Redis, listening for events
    app = create_app(make_settings("sqlite://:memory:", BROADCAST_URL=own_redis.url))
    graphql, bus = app.state.graphql, app.state.bus
    await bus.connect()
    try:
        async with bus.subscribe("timeline"):
            # when each store of the process writes in turn
            await graphql.throttle.failed("x@y.example", "192.0.2.1")
            assert await graphql.sockets.open(7, limit=2) is not None
            await bus.presence.renew(1, Session("window", 7, False, time.time()))
            await graphql.persisted.cache.put("0" * 64, "{ me { name } }")
            # then they went through one connection, besides the one that listens
            assert await _connections(own_redis.url) <= 2
    finally:
        # and when the process stops as its lifespan stops it, none stays open
        await graphql.sockets.aclose()
        await bus.disconnect()
        await graphql.throttle.store.close()
        await graphql.persisted.close()
        await app.state.redis.aclose()
    assert await _connections(own_redis.url) == 0
