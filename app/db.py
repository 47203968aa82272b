"""Database configuration, connection lifecycle and migrations (Tortoise ORM)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import asyncpg
from tortoise import Tortoise, connections
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.migrations.api import migrate as run_migrations

MODELS_MODULE = "models"
MIGRATIONS_MODULE = "models.migrations"
CONNECT_TIMEOUT = 5  # seconds to open a PostgreSQL connection (the driver waits 60 otherwise)


def tortoise_url(database_url: str) -> str:
    """Tortoise spells PostgreSQL as ``postgres://``; accept the common ``postgresql://`` too."""
    scheme, sep, rest = database_url.partition("://")
    if scheme == "postgresql":
        return f"postgres{sep}{rest}"
    return database_url


def tortoise_config(database_url: str) -> dict[str, Any]:
    """Tortoise's configuration for ``database_url``. A PostgreSQL server that does not
    answer within CONNECT_TIMEOUT seconds (unless the URL sets ``?timeout=``) fails the
    request as unavailable rather than holding it."""
    url = tortoise_url(database_url)
    if is_postgres(url):
        parts = urlsplit(url)
        if "timeout" not in parse_qs(parts.query):
            query = "&".join(filter(None, [parts.query, f"timeout={CONNECT_TIMEOUT}"]))
            url = urlunsplit(parts._replace(query=query))
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return {
        "connections": {"default": url},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "migrations": MIGRATIONS_MODULE,
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def is_postgres(database_url: str) -> bool:
    return urlsplit(tortoise_url(database_url)).scheme in ("postgres", "asyncpg")


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """A PostgreSQL connection that goes back to the pool without asyncpg's reset query
    (``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``), one round trip saved
    per statement outside a transaction (Tortoise takes a pooled connection for each).
    An open transaction is still rolled back on release. Safe because nothing here leaves
    state on a session: advisory locks are taken for the transaction only
    (``pg_advisory_xact_lock``), settings only with ``SET LOCAL``, and nothing listens or
    declares a cursor outside a transaction (tests/test_database_sessions.py checks)."""

    def get_reset_query(self) -> str:
        return ""


async def open_database(database_url: str) -> None:
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    client = connections.get("default")
    if isinstance(client, AsyncpgDBClient):  # its pool is made at its first statement
        client.connection_class = PooledConnection


async def close_database() -> None:
    await Tortoise.close_connections()


async def migrate(database_url: str) -> list[str]:
    """Apply every pending migration; safe to run on every start. Answers the names of the
    migrations applied, in order (empty when the database was up to date)."""
    applied: list[str] = []

    def progress(event: str, _app: str, name: str) -> None:
        if event == "apply_done":
            applied.append(name)

    try:
        await run_migrations(config=tortoise_config(database_url), progress=progress)
    finally:
        await Tortoise.close_connections()
    return applied
