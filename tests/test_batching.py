"""Reads batched across concurrent callers (infra/batching.py), and full collections
deferred to the end of a burst of websockets (app/collector.py)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Mapping, Sequence

import pytest

from app import collector
from infra.batching import Batched


async def test_concurrent_calls_share_one_read_and_later_calls_a_later_one() -> None:
    # given a read that records the keys it was asked for, and a value that changes
    reads: list[list[str]] = []
    value = {"now": 1}
    gate = asyncio.Event()

    async def read(keys: Sequence[str]) -> Mapping[str, int]:
        reads.append(list(keys))
        seen = value["now"]
        await gate.wait()
        return {key: seen for key in keys if key != "missing"}

    batched: Batched[str, int] = Batched(read)

    # when three calls are made in one turn of the loop
    first = [asyncio.ensure_future(batched(k)) for k in ("a", "b", "a")]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    # and, while that read runs, the value changes and two more calls come
    value["now"] = 2
    later = [asyncio.ensure_future(batched(k)) for k in ("a", "missing")]
    gate.set()

    # then the first calls were answered by one read of their distinct keys
    assert await asyncio.gather(*first) == [1, 1, 1]
    # and the later ones by a read that started after they were made
    assert await later[0] == 2
    with pytest.raises(KeyError):
        await later[1]
    assert reads == [["a", "b"], ["a", "missing"]]


async def test_a_failed_read_fails_its_callers_only_and_a_caller_leaving_cancels_nothing() -> None:
    calls = 0

    async def read(keys: Sequence[int]) -> Mapping[int, int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        if calls == 1:
            raise ConnectionError("the database is away")
        return {key: key * 10 for key in keys}

    batched: Batched[int, int] = Batched(read)
    with pytest.raises(ConnectionError):
        await batched(1)
    leaving = asyncio.ensure_future(batched(2))
    staying = asyncio.ensure_future(batched(2))
    await asyncio.sleep(0)
    leaving.cancel()
    assert await staying == 20


async def test_a_burst_of_websockets_defers_full_collections_to_its_end() -> None:
    # given the collector's thresholds
    saved = gc.get_threshold()
    bursts = collector.Bursts()
    try:
        # when fewer websockets than a burst open, full collections run as usual
        for _ in range(collector.BURST_SOCKETS - 1):
            bursts.opened()
        assert not bursts.in_burst
        assert gc.get_threshold()[2] == saved[2]
        # when a burst's worth opens within the window, they wait
        bursts.opened()
        assert bursts.in_burst
        assert gc.get_threshold()[2] == collector.DEFERRED
    finally:
        # then its end runs one full collection and lets them run again
        bursts.end()
    assert not bursts.in_burst
    assert bursts.bursts == 1
    assert gc.get_threshold()[2] == collector.GC_THRESHOLDS[2]
    gc.set_threshold(*saved)
