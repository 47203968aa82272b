"""The application the growth benchmarks measure: a fresh SQLite database in a temporary
folder, migrated, with development settings and the default limits, its lifespan running."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette

from app.db import migrate
from app.main import create_app
from infra.settings import load_settings


@asynccontextmanager
async def benchmark_app(**settings: str) -> AsyncIterator[Starlette]:
    """The app, with ``settings`` (environment names and values) over the defaults."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite://{Path(tmp) / 'growth.sqlite3'}"
        await migrate(url)
        env = {
            "DATABASE_URL": url,
            "EXTRANET_ENV": "development",
            "EXTRANET_SECRET_KEY": "benchmark-secret-key-long-enough-for-hs256",
            "EXTRANET_ATTACHMENTS_DIR": str(Path(tmp) / "files"),
            "EXTRANET_SMTP_URL": f"maildir://{Path(tmp) / 'mail'}",
            **settings,
        }
        app = create_app(load_settings(env))
        async with app.router.lifespan_context(app):
            yield app
