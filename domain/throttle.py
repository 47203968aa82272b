"""Sign-in protection that no third party can turn against an account.

Failures are counted three ways, and none of them is a lock that someone else can set on
an account:

- per account and client address (the pair): five failures within 15 minutes lock that
  pair, and only that pair, for 15 minutes;
- per account, from every address: beyond five, each further failure makes the failing
  pair wait (1, 2, 4 ... at most 60 seconds) before its next try; a correct sign-in from
  an address that has not failed is never held up;
- per client address, for any email: beyond twenty, each further failure makes that
  address wait (1, 2, 4 ... at most 60 seconds); other addresses are never held up.

A wait answers RATE_LIMITED with the seconds to wait (``retryAfter``). An email that has no
account is counted exactly like one that has, so the answers tell nothing about who has an
account. Counts live in Redis when the deployment uses it (every process sees them), in
memory otherwise. The client address is the connection's peer, or the address a trusted
proxy reports (``EXTRANET_TRUSTED_PROXIES``); an IPv6 address counts as its /64 network (one
subscriber's allocation, which one client can rotate through freely), an IPv4-mapped IPv6
address as the IPv4 address."""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from dataclasses import dataclass
from typing import Protocol

from domain.availability import required_service
from domain.errors import RateLimited
from domain.wording import duration
from infra import metrics
from infra.redis_clients import RedisConnections, bounded, uses_redis

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rule:
    failures: int  # this many failures within `window` seconds lock for `lock` seconds
    window: int
    lock: int


@dataclass(frozen=True, slots=True)
class Slowdown:
    after: int  # beyond this many failures within `window` seconds, each failure makes a wait
    window: int
    max_delay: int  # seconds; the waits double from one second up to this

    def delay(self, failures: int) -> int:
        """Seconds to wait after the failure numbered ``failures``; 0 within the allowance."""
        beyond = failures - self.after
        return 0 if beyond <= 0 else min(self.max_delay, 2 ** min(beyond - 1, 16))


PAIR = Rule(failures=5, window=15 * 60, lock=15 * 60)
ACCOUNT = Slowdown(after=5, window=15 * 60, max_delay=60)
ADDRESS = Slowdown(after=20, window=15 * 60, max_delay=60)


class AttemptStore(Protocol):
    """Counts of what happened lately, by key: in memory, or in Redis where every process
    sees them. The sign-in limits and :class:`RateLimit` count here."""

    async def fail(self, key: str, window: int) -> int:
        """Count a failure; the failures within the window so far."""
        ...

    async def drain(self, key: str) -> int:
        """The failures counted under ``key`` (0 when none, or their window ended); the key
        is forgotten."""
        ...

    async def lock(self, key: str, seconds: int) -> None: ...

    async def locked_for(self, key: str) -> int:
        """Seconds until the key is unlocked; 0 when it is not locked."""
        ...

    async def clear(self, key: str) -> None: ...

    async def clear_ending(self, suffix: str) -> None:
        """Forget the failures and locks of every key that ends with ``suffix``."""
        ...

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

    async def drain(self, key: str) -> int:
        count, ends = self._failures.pop(key, (0, 0.0))
        return count if ends > time.monotonic() else 0

    async def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    async def clear_ending(self, suffix: str) -> None:
        for counts in (self._failures, self._locks):
            for key in [k for k in counts if k.endswith(suffix)]:
                del counts[key]

    async def close(self) -> None:
        self._failures.clear()
        self._locks.clear()


class RedisAttempts:
    """Counts in Redis; ``redis``: the process's connections (or a URL: its own)."""

    def __init__(self, redis: RedisConnections | str, namespace: str) -> None:
        self._connections = RedisConnections.of(redis)
        self._redis = self._connections.client()
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
    async def drain(self, key: str) -> int:
        name = self._key(key, "failures")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(name)
            pipe.delete(name)
            count, _ = await pipe.execute()
        return int(count or 0)

    @bounded
    async def clear(self, key: str) -> None:
        await self._redis.delete(self._key(key, "failures"))

    @bounded
    async def clear_ending(self, suffix: str) -> None:
        escaped = re.sub(r"([*?\[\]\\])", r"\\\1", suffix)
        pattern = f"{self._namespace}.signin.*{escaped}"
        names = [name async for name in self._redis.scan_iter(match=pattern, count=500)]
        if names:
            await self._redis.delete(*names)

    async def close(self) -> None:
        await self._redis.aclose()
        await self._connections.release()


def attempt_store(redis: RedisConnections | str | None, namespace: str) -> AttemptStore:
    """Counts in Redis when ``redis`` is the process's connections or a Redis URL, in
    memory otherwise (``None``, ``memory://``)."""
    if uses_redis(redis):
        assert redis is not None
        return RedisAttempts(redis, namespace)
    return MemoryAttempts()


class RateLimit:
    """At most ``most`` events of one key (a caller, say) within ``window`` seconds,
    counted in a store of attempts (so, with Redis, across every process): the same
    counting as the sign-in limits'. Each event let through is told how many of its key
    were refused since the previous one."""

    LEFT_OUT_WINDOW = 24 * 60 * 60  # refusals not told within a day are forgotten

    def __init__(self, store: AttemptStore, name: str, most: int, window: int) -> None:
        self.store = store
        self.name = name
        self.most = most
        self.window = window

    async def take(self, key: str) -> int | None:
        """How many events of ``key`` were refused before this one, or None when this one
        is refused too. Raises what the store raises when it does not answer."""
        if await self.store.fail(f"{self.name}:{key}", self.window) > self.most:
            await self.store.fail(f"{self.name}-left-out:{key}", self.LEFT_OUT_WINDOW)
            return None
        return await self.store.drain(f"{self.name}-left-out:{key}")


def client_key(address: str) -> str:
    """What the limits count an address as: an IPv6 address as its /64 network
    (``2001:db8:1:2::/64``), an IPv4-mapped one as its IPv4 address, anything else (IPv4,
    a name, "") as it is, "unknown" for none."""
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]").split("%")[0])
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class LoginThrottle:
    """The sign-in limits over a store of counts (see the module's description)."""

    def __init__(self, store: AttemptStore) -> None:
        self.store = store

    @staticmethod
    def _keys(email: str, address: str) -> tuple[str, str, str]:
        """The keys of the account, of the client address, and of the pair."""
        account = email.strip().lower()
        client = client_key(address)
        return f"account:{account}", f"address:{client}", f"pair:{client}|{account}"

    async def check(self, email: str, address: str) -> None:
        """Refuse with RATE_LIMITED while this account-and-address pair is locked or made
        to wait, or the address is made to wait. When the store does not answer, no
        password or code is checked: SERVICE_UNAVAILABLE."""
        _, client, pair = self._keys(email, address)
        with required_service():
            wait = 0
            for key in (pair, f"wait:{pair}", f"wait:{client}"):
                wait = max(wait, await self.store.locked_for(key))
        if wait:
            raise RateLimited(
                f"Too many failed sign-ins. Try again in {duration(wait)}.", retryAfter=wait
            )

    async def failed(self, email: str, address: str) -> None:
        """Count a failed password or code of ``email`` from ``address``; SERVICE_UNAVAILABLE
        when the store does not answer (a failure that is not counted is not answered)."""
        account, client, pair = self._keys(email, address)
        metrics.LOGIN_FAILURES.inc()
        with required_service():
            pair_failures = await self.store.fail(pair, PAIR.window)
            account_failures = await self.store.fail(account, ACCOUNT.window)
            if pair_failures >= PAIR.failures:
                metrics.LOGIN_LOCKS.inc()
                await self.store.lock(pair, PAIR.lock)
            elif delay := ACCOUNT.delay(account_failures):
                await self.store.lock(f"wait:{pair}", delay)
            if delay := ADDRESS.delay(await self.store.fail(client, ADDRESS.window)):
                await self.store.lock(f"wait:{client}", delay)

    async def unlock(self, email: str) -> None:
        """Lift every lock and wait on the account, from every address, and forget its
        failures (an administrator's ``unlockUser``; a password reset). Waits of a client
        address for all accounts stay. SERVICE_UNAVAILABLE when the store does not answer."""
        account = email.strip().lower()
        with required_service():
            await self.store.clear(f"account:{account}")
            await self.store.clear_ending(f"|{account}")

    async def succeeded(self, email: str, address: str = "") -> None:
        """Forget the failures of this pair and the account's count; other pairs that
        failed stay locked or waiting as they are."""
        account, _, pair = self._keys(email, address)
        try:
            await self.store.clear(pair)
            await self.store.clear(account)
        except Exception:
            log.exception("Sign-in protection could not clear failures")
