"""One function of a migration, run on the test database as the migration runner runs it."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

from tortoise import connections


class Editor:
    """What a migration's function is given: the connection and its dialect."""

    def __init__(self) -> None:
        self.client = connections.get("default")
        self.DIALECT = self.client.capabilities.dialect


async def run_step(migration: str, function: str) -> None:
    """Run ``function`` of ``models/migrations/<migration>.py`` on the test database."""
    module = importlib.import_module(f"models.migrations.{migration}")
    step: Callable[[Any, Editor], Awaitable[None]] = getattr(module, function)
    await step(None, Editor())
