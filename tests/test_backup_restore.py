"""A PostgreSQL backup, as the README's "Backups" section takes it (``pg_dump --format
custom``), restores into a new database (``pg_restore``) that the application then serves
with the same data. PostgreSQL only: on SQLite runs the test is skipped."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from app.db import is_postgres, tortoise_url
from tests.live import load_demo, serve_process
from tests.services import fresh_database

pytestmark = [
    pytest.mark.end_to_end,
    pytest.mark.skipif(
        not is_postgres(os.environ.get("DATABASE_URL", "")),
        reason="a PostgreSQL backup needs DATABASE_URL to name a PostgreSQL server",
    ),
]

PASSWORD = "demo-extranet-2026"
LOGIN = """mutation ($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken } }"""
PROJECTS = """{ projects(first: 10) { edges { node { name
  timeline(first: 5) { edges { node { body } } } } } } }"""


def libpq_url(url: str) -> str:
    """``url`` as PostgreSQL's own tools read it (no driver options)."""
    parts = urlsplit(tortoise_url(url).replace("postgres://", "postgresql://", 1))
    return urlunsplit(parts._replace(query=""))


def tool(name: str) -> str:
    """The newest installed ``pg_dump`` or ``pg_restore`` (it must not be older than the
    server)."""
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: p.parts)
    found = str(versions[-1]) if versions else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


async def run(*command: str) -> None:
    done = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr


async def test_a_pg_dump_restored_into_a_new_database_is_served(tmp_path: Path) -> None:
    # given a populated database (the demo data)
    async with fresh_database(tmp_path / "a") as original, fresh_database(tmp_path / "b") as copy:
        env = {
            **os.environ,
            "DATABASE_URL": original,
            "BROADCAST_URL": "memory://",
            "EXTRANET_SECRET_KEY": "backup-restore-secret-key-that-is-long-enough",
            "EXTRANET_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
            "EXTRANET_MAIL": "off",
        }
        await load_demo(env)
        # when it is dumped and restored into a new, empty database
        dump = tmp_path / "extranet.dump"
        await run(tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(dump),
                  libpq_url(original))  # fmt: skip
        await run(tool("pg_restore"), "--no-owner", "--exit-on-error", "--dbname",
                  libpq_url(copy), str(dump))  # fmt: skip
        # then the application starts on the copy, ready, and answers with the restored data
        async with (
            serve_process({**env, "DATABASE_URL": copy}) as address,
            httpx.AsyncClient(base_url=f"http://{address}", timeout=10) as http,
        ):
            ready = await http.get("/readyz")
            assert ready.status_code == 200, ready.text
            login = await http.post("/graphql", json={"query": LOGIN, "variables": {
                "email": "sam@provider.example", "password": PASSWORD}})  # fmt: skip
            token = login.json()["data"]["login"]["accessToken"]
            answer = await http.post("/graphql", json={"query": PROJECTS},
                                     headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        projects = {edge["node"]["name"]: edge["node"] for edge in
                    answer.json()["data"]["projects"]["edges"]}  # fmt: skip
        assert "Warehouse portal relaunch" in projects
        assert projects["Warehouse portal relaunch"]["timeline"]["edges"]
