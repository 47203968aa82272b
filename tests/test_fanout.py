"""A slow subscriber is cut off with its cursor instead of growing memory, and does not
slow the others."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from broadcaster import Broadcast

from realtime._fanout import Fanout, FellBehind
from tests.live import until


@pytest.fixture
async def fanout() -> AsyncIterator[Fanout]:
    broadcast = Broadcast("memory://")
    await broadcast.connect()
    yield Fanout(broadcast, limit=5)
    await broadcast.disconnect()


async def test_one_upstream_subscription_serves_every_local_subscriber(fanout: Fanout) -> None:
    async with fanout.subscribe("c") as first, fanout.subscribe("c") as second:
        assert fanout.subscriber_count("c") == 2
        await fanout._broadcast.publish("c", "hello")
        assert await asyncio.wait_for(first.get(), 2) == "hello"
        assert await asyncio.wait_for(second.get(), 2) == "hello"
    assert fanout.subscriber_count("c") == 0


async def test_a_subscriber_that_stops_reading_is_cut_off_and_others_carry_on(
    fanout: Fanout,
) -> None:
    async with fanout.subscribe("c") as slow, fanout.subscribe("c") as fast:
        received = []
        for n in range(20):
            await fanout._broadcast.publish("c", str(n))
            await asyncio.sleep(0)
            received.append(await asyncio.wait_for(fast.get(), 2))
        # then the reader kept everything, the sleeper overflowed at the limit
        assert received == [str(n) for n in range(20)]
        with pytest.raises(FellBehind):
            await asyncio.wait_for(slow.get(), 2)
        assert slow.pending == 0


async def test_preparers_run_once_per_key_before_subscribers_get_the_message(
    fanout: Fanout,
) -> None:
    seen: list[str] = []
    release = asyncio.Event()

    async def prepare(message: str) -> None:
        seen.append(message)
        await release.wait()

    async def never(message: str) -> None:  # same key: only the latest one runs
        raise AssertionError("a second preparer of one key ran")

    stop = fanout.prepare("c", "shape", never)
    stop_other = fanout.prepare("c", "shape", prepare)
    async with fanout.subscribe("c") as subscriber:
        await fanout._broadcast.publish("c", "hello")
        await until(lambda: seen == ["hello"], what="the preparer ran")
        # the subscriber waits for the preparation
        assert seen == ["hello"]
        assert subscriber.pending == 0
        release.set()
        assert await asyncio.wait_for(subscriber.get(), 2) == "hello"
        # once unregistered, nothing is prepared
        stop_other()
        stop()
        await fanout._broadcast.publish("c", "bye")
        assert await asyncio.wait_for(subscriber.get(), 2) == "bye"
    assert seen == ["hello"]
    assert fanout._preparers == {}


async def test_a_failing_or_stuck_preparer_only_costs_its_time(
    fanout: Fanout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("realtime._fanout.PREPARE_TIMEOUT", 0.2)

    async def fails(message: str) -> None:
        raise RuntimeError("no database")

    async def hangs(message: str) -> None:
        await asyncio.Event().wait()

    fanout.prepare("c", "a", fails)
    fanout.prepare("c", "b", hangs)
    async with fanout.subscribe("c") as subscriber:
        await fanout._broadcast.publish("c", "one")
        await fanout._broadcast.publish("c", "two")
        assert await asyncio.wait_for(subscriber.get(), 2) == "one"
        assert await asyncio.wait_for(subscriber.get(), 2) == "two"
