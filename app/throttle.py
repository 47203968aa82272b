"""Sign-in protection: failed attempts are counted per account and per client address,
and too many within a window lock further attempts for a while, with RATE_LIMITED and the
seconds to wait. An email that has no account is counted and locked exactly like one that
has, so the answers tell nothing about who has an account. Counts live in Redis when the
deployment uses it (every process sees them), in memory otherwise."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Protocol

from app.errors import RateLimited
from realtime.redis_clients import bounded, is_redis_url, redis_client

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rule:
    failures: int  # this many failures within `window` seconds lock for `lock` seconds
    window: int
    lock: int


ACCOUNT = Rule(failures=5, window=15 * 60, lock=15 * 60)
ADDRESS = Rule(failures=20, window=15 * 60, lock=15 * 60)


class AttemptStore(Protocol):
    async def fail(self, key: str, window: int) -> int:
        """Count a failure; the failures within the window so far."""
        ...

    async def lock(self, key: str, seconds: int) -> None: ...

    async def locked_for(self, key: str) -> int:
        """Seconds until the key is unlocked; 0 when it is not locked."""
        ...

    async def clear(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryAttempts:
    def __init__(self) -> None:
        self._failures: dict[str, tuple[int, float]] = {}
        self._locks: dict[str, float] = {}

    async def fail(self, key: str, window: int) -> int:
        now = time.monotonic()
        count, ends = self._failures.get(key, (0, now + window))
        if ends <= now:
            count, ends = 0, now + window
        self._failures[key] = (count + 1, ends)
        return count + 1

    async def lock(self, key: str, seconds: int) -> None:
        self._locks[key] = time.monotonic() + seconds
        self._failures.pop(key, None)

    async def locked_for(self, key: str) -> int:
        until = self._locks.get(key)
        if until is None:
            return 0
        left = until - time.monotonic()
        if left <= 0:
            del self._locks[key]
            return 0
        return max(1, round(left))

    async def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    async def close(self) -> None:
        self._failures.clear()
        self._locks.clear()


class RedisAttempts:
    def __init__(self, url: str, namespace: str) -> None:
        self._redis = redis_client(url)
        self._namespace = namespace

    def _key(self, key: str, kind: str) -> str:
        return f"{self._namespace}.signin.{kind}.{key}"

    @bounded
    async def fail(self, key: str, window: int) -> int:
        name = self._key(key, "failures")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    @bounded
    async def lock(self, key: str, seconds: int) -> None:
        await self._redis.set(self._key(key, "lock"), 1, ex=seconds)
        await self._redis.delete(self._key(key, "failures"))

    @bounded
    async def locked_for(self, key: str) -> int:
        left = await self._redis.ttl(self._key(key, "lock"))
        return max(0, int(left))

    @bounded
    async def clear(self, key: str) -> None:
        await self._redis.delete(self._key(key, "failures"))

    async def close(self) -> None:
        await self._redis.aclose()


def attempt_store(url: str, namespace: str) -> AttemptStore:
    if is_redis_url(url):
        return RedisAttempts(url, namespace)
    return MemoryAttempts()


class LoginThrottle:
    def __init__(self, store: AttemptStore) -> None:
        self.store = store

    @staticmethod
    def _keys(email: str, address: str) -> tuple[str, str]:
        return f"account:{email.strip().lower()}", f"address:{address or 'unknown'}"

    async def check(self, email: str, address: str, *, fail_closed: bool = False) -> None:
        """Refuse with RATE_LIMITED while the account or the address is locked. When the
        store is down, a password is still checked (unprotected, and logged), but a
        six-digit code is not (``fail_closed``): a million codes are guessed quickly."""
        account, client = self._keys(email, address)
        try:
            wait = max(await self.store.locked_for(account), await self.store.locked_for(client))
        except Exception:
            log.exception("Sign-in protection is unavailable")
            if fail_closed:
                raise RateLimited(
                    "Codes cannot be checked for a moment. Try again in 30 seconds.",
                    retryAfter=30,
                ) from None
            return
        if wait:
            raise RateLimited(
                f"Too many failed sign-ins. Try again in {wait} seconds.", retryAfter=wait
            )

    async def failed(self, email: str, address: str) -> None:
        account, client = self._keys(email, address)
        try:
            for key, rule in ((account, ACCOUNT), (client, ADDRESS)):
                if await self.store.fail(key, rule.window) >= rule.failures:
                    await self.store.lock(key, rule.lock)
        except Exception:
            log.exception("Sign-in protection could not count a failure")

    async def succeeded(self, email: str) -> None:
        account, _ = self._keys(email, "")
        try:
            await self.store.clear(account)
        except Exception:
            log.exception("Sign-in protection could not clear failures")
