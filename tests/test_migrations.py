"""The committed migrations describe the models exactly."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PENDING_CHANGES = """
import asyncio
from tortoise.cli.cli import tortoise_cli_context
from tortoise.migrations.autodetector import MigrationAutodetector
from app.db import tortoise_config

async def main() -> None:
    config = tortoise_config("sqlite://:memory:")
    async with tortoise_cli_context(config) as ctx:
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    for writer in writers:
        print("pending:", writer.app_label, writer.name)

asyncio.run(main())
"""


def test_models_have_no_changes_without_a_migration() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PENDING_CHANGES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "pending:" not in result.stdout, (
        f"Models changed without a migration: run `make migrations`.\n{result.stdout}"
    )
