"""Where automatically persisted documents are kept: a bounded LRU in memory, and one shared
through Redis that stays within its cap and survives Redis being away."""

from __future__ import annotations

import secrets

import pytest
from graphql import parse

from app.persisted import (
    OPERATIONS_DIR,
    MemoryDocuments,
    RedisDocuments,
    document_cache,
    operation_documents,
)
from graphql_schema.persisted.documents import sha256_hex
from infra.settings import SettingsError, load_settings
from tests.services import RedisProcess


async def test_memory_keeps_the_most_recently_used_documents_up_to_its_cap() -> None:
    # given
    cache = MemoryDocuments(2)
    await cache.put("a", "{ a }")
    await cache.put("b", "{ b }")
    # when "a" is used, then a third arrives
    assert await cache.get("a") == "{ a }"
    await cache.put("c", "{ c }")
    # then "b", the least recently used, made room
    assert [await cache.get(k) for k in "abc"] == ["{ a }", None, "{ c }"]


async def test_redis_shares_documents_between_processes_within_its_cap(any_redis: str) -> None:
    # given three processes' caches on one Redis
    url = any_redis
    namespace = f"test-{secrets.token_hex(4)}"
    one, other, third = (RedisDocuments(url, namespace, 3) for _ in range(3))
    try:
        # when one process keeps five documents, and another uses the first after the third
        for n in range(5):
            await one.put(f"d{n}", f"{{ d{n} }}")
            if n == 2:
                assert await other.get("d0") == "{ d0 }"
        # then a third finds the three most recently used, and no more are kept
        found = {key: await third.get(key) for key in ("d0", "d1", "d2", "d3", "d4")}
        assert found == {"d0": "{ d0 }", "d1": None, "d2": None, "d3": "{ d3 }", "d4": "{ d4 }"}
        assert await one._redis.zcard(one._used) == 3
        assert await one._redis.hlen(one._texts) == 3
    finally:
        await one._redis.delete(one._used, one._texts)
        for cache in (one, other, third):
            await cache.close()


async def test_without_redis_a_process_goes_on_with_what_it_holds(own_redis: RedisProcess) -> None:
    # given
    cache = document_cache(own_redis.url, f"test-{secrets.token_hex(4)}", 10)
    assert isinstance(cache, RedisDocuments)
    try:
        await cache.put("kept", "{ kept }")
        own_redis.stop()
        # when
        await cache.put("local", "{ local }")
        # then
        assert await cache.get("kept") == "{ kept }"
        assert await cache.get("local") == "{ local }"
        assert await cache.get("unknown") is None
    finally:
        await cache.close()


def test_every_client_operation_is_hashed_at_start_up() -> None:
    # when
    texts = list(operation_documents(OPERATIONS_DIR))
    # then
    files = [parse(p.read_text()) for p in OPERATIONS_DIR.glob("*.graphql")]
    operations = [f for f in files if any(d.kind == "operation_definition" for d in f.definitions)]
    assert len(texts) == len(operations)
    assert all(len(sha256_hex(text)) == 64 for text in texts)


@pytest.mark.parametrize(
    ("value", "mode"), [("", "automatic"), ("registered", "registered"), ("Automatic", "automatic")]
)
def test_the_persisted_queries_setting(value: str, mode: str) -> None:
    settings = load_settings({"EXTRANET_PERSISTED_QUERIES": value, "EXTRANET_SECRET_KEY": "k" * 40})
    assert settings.persisted_queries == mode


def test_an_unknown_persisted_queries_mode_stops_start_up() -> None:
    with pytest.raises(SettingsError, match="EXTRANET_PERSISTED_QUERIES"):
        load_settings({"EXTRANET_PERSISTED_QUERIES": "only", "EXTRANET_SECRET_KEY": "k" * 40})
