"""The bounded map behind every cache of the process, and the pauses between reconnections."""

import pytest

from domain.throttle import MemoryAttempts, RateLimit
from infra.lru import LRU
from infra.redis_clients import backoff


def test_the_least_recently_used_entry_goes_first() -> None:
    # given a map of two entries, the first one read since
    recent: LRU[str, int] = LRU(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert recent.get("a") == 1
    # when a third comes
    recent.put("c", 3)
    # then the one unused longest is forgotten
    assert list(recent) == ["a", "c"]
    assert recent.get("b") is None
    assert recent.get("b", 0) == 0


def test_weights_bound_the_map_but_the_latest_entry_stays() -> None:
    diffs: LRU[str, str] = LRU(10)
    diffs.put("small", "s", weight=4)
    diffs.put("medium", "m", weight=6)
    assert (len(diffs), diffs.weight) == (2, 10)
    # an entry heavier than the whole capacity is kept alone
    diffs.put("huge", "h", weight=50)
    assert list(diffs) == ["huge"]
    # a new weight for a key replaces the old one
    diffs.put("huge", "h", weight=3)
    assert diffs.weight == 3
    assert diffs.pop("huge") == "h"
    assert (len(diffs), diffs.weight) == (0, 0)


def test_peeking_does_not_count_as_use() -> None:
    recent: LRU[str, int] = LRU(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert recent.peek("a") == 1
    recent.put("c", 3)
    assert "a" not in recent


def test_an_lru_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="at least one"):
        LRU(0)


def test_reconnection_pauses_double_up_to_a_cap_with_jitter() -> None:
    pauses = backoff(0.1, 0.8)
    taken = [next(pauses) for _ in range(6)]
    for pause, step in zip(taken, [0.1, 0.2, 0.4, 0.8, 0.8, 0.8], strict=True):
        assert step / 2 <= pause <= step
    # two processes that lost Redis together do not come back in step
    assert [next(backoff(0.1, 0.8)) for _ in range(20)] != [0.1] * 20


async def test_a_rate_limit_tells_the_next_allowed_event_how_many_were_left_out() -> None:
    # given at most two events a minute per caller
    store = MemoryAttempts()
    limit = RateLimit(store, "denials", most=2, window=60)
    # when a caller has five, and another caller one
    answers = [await limit.take("7") for _ in range(5)]
    other = await limit.take("8")
    # then the first two pass, the rest are left out, and the other caller is not held back
    assert answers == [0, 0, None, None, None]
    assert other == 0
    # and once the minute is over, the next one is told of the three left out, once
    await store.clear("denials:7")
    assert [await limit.take("7") for _ in range(2)] == [3, 0]
