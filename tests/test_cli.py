"""The ``extranet`` command as an operator uses it, in real processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.live import serve_process
from tests.services import fresh_database

EXTRANET = str(Path(sys.executable).parent / "extranet")
SECRET = "cli-test-secret-key-long-enough-for-hs256"


@pytest.fixture
async def cli_env(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    async with fresh_database(tmp_path) as url:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "BROADCAST_URL": "memory://",
            "EXTRANET_SECRET_KEY": SECRET,
            "EXTRANET_ENV": "development",
        }
        yield env


async def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [EXTRANET, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


async def test_a_bad_setting_names_the_variable_and_stops(cli_env: dict[str, str]) -> None:
    result = await run({**cli_env, "DATABASE_URL": "mysql://x/y"}, "migrate")
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr


async def test_migrate_then_create_a_customer_and_its_contact(cli_env: dict[str, str]) -> None:
    # given
    assert (await run(cli_env, "migrate")).returncode == 0
    # when
    customer = await run(cli_env, "create-customer", "Initech GmbH")
    contact = await run(
        cli_env,
        "create-user",
        "peter@initech.example",
        "--role",
        "CUSTOMER_ADMIN",
        "--customer",
        "initech-gmbh",
        "--name",
        "Peter",
        stdin="a long and unusual passphrase\n",
    )
    # then
    assert customer.returncode == 0, customer.stderr
    assert "initech-gmbh" in customer.stdout
    assert contact.returncode == 0, contact.stderr
    assert "peter@initech.example" in contact.stdout
    pruned = await run(cli_env, "prune-events", "--older-than-days", "0")
    assert pruned.returncode == 0, pruned.stderr
    assert "Pruned 0 events" in pruned.stdout
    again = await run(cli_env, "create-customer", "Initech GmbH")
    assert again.returncode == 1
    assert "already exists" in again.stderr


@pytest.mark.parametrize(
    ("password", "reason"),
    [("", "empty"), ("short1", "too short"), ("aaaaaaaaaaaaaaaa", "too easy")],
)
async def test_create_user_refuses_weak_passwords(
    cli_env: dict[str, str], password: str, reason: str
) -> None:
    assert (await run(cli_env, "migrate")).returncode == 0
    result = await run(
        cli_env, "create-user", "ops@provider.example", "--role", "STAFF", stdin=password + "\n"
    )
    assert result.returncode == 1
    assert reason in result.stderr


LOGIN = 'mutation { login(input: {email: "anna@acme.example", password: "demo-extranet-2026"}) { accessToken } }'  # noqa: E501
CUSTOMERS = "{ customers { edges { node { name internalNotes } } } projects { totalCount } }"


async def test_a_newcomer_serves_the_demo_and_a_contact_sees_only_their_own(
    cli_env: dict[str, str],
) -> None:
    # given the steps of `make run`
    assert (await run(cli_env, "migrate")).returncode == 0
    demo = await run(cli_env, "demo", "--if-empty")
    assert demo.returncode == 0, demo.stderr
    assert "anna@acme.example" in demo.stdout
    assert "already has data" in (await run(cli_env, "demo", "--if-empty")).stdout
    async with (
        serve_process(cli_env) as address,
        httpx.AsyncClient(base_url=f"http://{address}", timeout=10) as http,
    ):
        # when a demo contact signs in and asks for customers
        login = (await http.post("/graphql", json={"query": LOGIN})).json()
        token = login["data"]["login"]["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}
        body = (await http.post("/graphql", json={"query": CUSTOMERS}, headers=headers)).json()
    # then only their own customer, and internalNotes refused
    assert body["data"]["customers"]["edges"] == [
        {"node": {"name": "Acme Logistics", "internalNotes": None}}
    ]
    assert body["data"]["projects"]["totalCount"] == 2
    [error] = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["path"] == ["customers", "edges", 0, "node", "internalNotes"]
    assert "Globex" not in str(body)
