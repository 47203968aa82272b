"""The Redis transport reconnects after a Redis restart and tells subscribers to resync; its
clients never lose a cancellation."""

import asyncio
import sys
from typing import Any

import redis.asyncio as aioredis
from broadcaster import Broadcast

from infra.redis_clients import redis_client
from realtime._redis import RESYNC, ResilientRedisBackend
from tests.live import until
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
            # when Redis goes away (and the listener notices), then comes back
            own_redis.stop()
            await until(lambda: backend.lost, what="the listener noticing Redis is gone")
            own_redis.start()
            # then the subscriber is told to resync, and later messages arrive
            assert await _get(subscriber) == RESYNC
            await broadcast.publish("timeline", "after")
            assert await _get(subscriber) == "after"
            assert backend.reconnects >= 1
    finally:
        await broadcast.disconnect()


async def _cancel_during_reads(client: Any, rounds: int) -> int:
    """Cancel a task at varying points of two Redis reads; count the tasks that went on
    to finish as if they had not been cancelled."""
    await client.hset("cancellation.h", "a", "1")
    finished = 0
    for n in range(rounds):

        async def reads() -> None:
            await client.zrangebyscore("cancellation.z", "-inf", "+inf")
            await client.hgetall("cancellation.h")

        task = asyncio.create_task(reads())
        for _ in range(n % 7):
            await asyncio.sleep(0)
        task.cancel()
        try:
            await task
            finished += 1
        except asyncio.CancelledError:
            pass
    return finished


async def test_a_task_cancelled_during_a_redis_operation_stops(own_redis: RedisProcess) -> None:
    # redis-py's default socket timeout makes Python 3.11 drop some of these cancellations
    # (a presence window then stayed on its page after its client had left)
    ours = redis_client(own_redis.url)
    stock = aioredis.from_url(own_redis.url)
    try:
        assert await _cancel_during_reads(ours, 300) == 0
        if sys.version_info < (3, 12):
            assert await _cancel_during_reads(stock, 300) > 0  # the trap this avoids
    finally:
        await ours.aclose()
        await stock.aclose()
