"""Real services for the tests: a fresh PostgreSQL database or SQLite file, and Redis.

Under ``CI=true`` a configured service that cannot be reached fails the run instead of
skipping the tests that need it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import redis.asyncio as aioredis

from app.db import is_postgres, tortoise_url

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(tortoise_url(url))
    return urlunsplit(parts._replace(path=f"/{name}"))


@asynccontextmanager
async def fresh_database(tmp_dir: Path) -> AsyncIterator[str]:
    """A new, empty database for one test session, dropped afterwards.

    PostgreSQL when ``DATABASE_URL`` names one (a new database on that server, so the
    configured one is never touched), otherwise a SQLite file in a temporary directory.
    """
    configured = os.environ.get("DATABASE_URL", "")
    if not is_postgres(configured):
        yield f"sqlite://{tmp_dir / 'test.sqlite3'}"
        return
    server = tortoise_url(configured).replace("postgres://", "postgresql://", 1)
    name = f"extranet_test_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield _with_database(configured, name)
    finally:
        admin = await asyncpg.connect(server)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def redis_url() -> str:
    configured = os.environ.get("BROADCAST_URL", "")
    return configured if configured.startswith("redis") else DEFAULT_REDIS_URL


async def require_redis() -> str:
    """The Redis URL to test against; skips when unreachable, except in CI, where it fails."""
    url = redis_url()
    client = aioredis.from_url(url)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError) as error:
        if in_ci():
            pytest.fail(f"Redis at {url} is unreachable under CI=true: {error}")
        pytest.skip(f"Redis at {url} is unreachable: {error}")
    finally:
        await client.aclose()
    return url
