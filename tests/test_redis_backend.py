"""The Redis transport reconnects after a Redis restart and tells subscribers to resync."""

import asyncio

from broadcaster import Broadcast

from realtime._redis import RESYNC, ResilientRedisBackend
from tests.services import RedisProcess


async def _get(subscriber: object) -> str:
    event = await asyncio.wait_for(subscriber.get(), 10)  # type: ignore[attr-defined]
    return str(event.message)


async def test_messages_flow_again_after_redis_restarts(own_redis: RedisProcess) -> None:
    # given a subscriber on a channel
    backend = ResilientRedisBackend(own_redis.url, initial_backoff=0.05, max_backoff=0.2)
    broadcast = Broadcast(backend=backend)
    await broadcast.connect()
    try:
        async with broadcast.subscribe("timeline") as subscriber:
            await broadcast.publish("timeline", "before")
            assert await _get(subscriber) == "before"
            # when Redis restarts
            own_redis.stop()
            await asyncio.sleep(0.3)
            own_redis.start()
            # then the subscriber is told to resync, and later messages arrive
            assert await _get(subscriber) == RESYNC
            await broadcast.publish("timeline", "after")
            assert await _get(subscriber) == "after"
            assert backend.reconnects >= 1
    finally:
        await broadcast.disconnect()
