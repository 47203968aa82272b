"""Migration 0011 on a database with data: invitations made when accounts were created at
invitation time are filled in, and no row that refers to a user is lost (SQLite copies the
users table to change a column, which with foreign keys on would delete them)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from tests.services import fresh_database

ROOT = Path(__file__).resolve().parent.parent

MIGRATE_WITH_DATA = """
import asyncio, json, sys
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate
from app.db import tortoise_config

async def main(url: str) -> None:
    config = tortoise_config(url)
    await migrate(config=config, target="models.0010_sessions")
    await Tortoise.close_connections()
    await Tortoise.init(config=config)
    await connections.get("default").execute_script(
        "INSERT INTO customers (id, name, slug, internal_notes, mfa_required, created_at) "
        "VALUES (7, 'C', 'c', '', false, CURRENT_TIMESTAMP);"
        "INSERT INTO users (id, email, handle, name, role, customer_id, is_active, created_at) "
        "VALUES (7, 'old@c.example', 'old', 'Old', 'CUSTOMER_MEMBER', 7, true, CURRENT_TIMESTAMP);"
        "INSERT INTO invitations (id, user_id, invited_by_id, token_hash, expires_at, created_at) "
        "VALUES (7, 7, 7, 'h', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);"
        "INSERT INTO recovery_codes (id, user_id, code_hash, created_at) "
        "VALUES (7, 7, 'c', CURRENT_TIMESTAMP);"
    )
    await Tortoise.close_connections()
    await migrate(config=config)
    await Tortoise.init(config=config)
    conn = connections.get("default")
    invitations = await conn.execute_query_dict(
        "SELECT customer_id, email, name, role, user_id FROM invitations"
    )
    codes = await conn.execute_query_dict("SELECT user_id FROM recovery_codes")
    await Tortoise.close_connections()
    print(json.dumps({"invitations": invitations, "codes": codes}))

asyncio.run(main(sys.argv[1]))
"""


async def test_old_invitations_are_filled_in_and_nothing_is_lost(tmp_path: Path) -> None:
    async with fresh_database(tmp_path) as url:
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", MIGRATE_WITH_DATA, url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout.strip().splitlines()[-1])
    assert rows["invitations"] == [
        {
            "customer_id": 7,
            "email": "old@c.example",
            "name": "Old",
            "role": "CUSTOMER_MEMBER",
            "user_id": 7,
        }
    ]
    assert rows["codes"] == [{"user_id": 7}]
