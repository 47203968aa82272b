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
from tests.services import free_port, fresh_database

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
            "EXTRANET_SMTP_URL": f"maildir://{tmp_path / 'mail'}",
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
    pruned = await run(cli_env, "prune-events")
    assert pruned.returncode == 0, pruned.stderr
    assert "Deleted 0 events older than 180 days." in pruned.stdout
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


MIGRATIONS = sorted(
    p.stem for p in (Path(__file__).parent.parent / "models/migrations").glob("0*.py")
)


async def test_migrate_names_what_it_applied_then_says_up_to_date(cli_env: dict[str, str]) -> None:
    # when a new database is migrated, twice
    first = await run(cli_env, "migrate")
    second = await run(cli_env, "migrate")
    # then the first names every migration in order, the second applies none
    assert first.returncode == 0, first.stderr
    assert f"Applied {len(MIGRATIONS)} migrations:" in first.stdout
    named = [line.strip() for line in first.stdout.splitlines() if line.startswith("  ")]
    assert named == MIGRATIONS
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "The database is up to date: no migrations to apply."


@pytest.mark.parametrize(
    "command",
    [
        ["migrate"],
        ["serve"],
        ["demo"],
        ["customers"],
        ["prune-events"],
        ["create-customer", "Initech GmbH"],
    ],
)
async def test_an_unreachable_database_is_one_line_naming_it_without_the_password(
    cli_env: dict[str, str], command: list[str]
) -> None:
    # given a PostgreSQL URL where nothing listens
    port = free_port()
    url = f"postgres://extranet:s3cret-pass@127.0.0.1:{port}/extranet"
    # when
    result = await run({**cli_env, "DATABASE_URL": url}, *command)
    # then
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"Cannot use the database at DATABASE_URL=postgres://extranet:***@127.0.0.1:{port}"
        "/extranet: the connection was refused (is the server running, on that host and port?)."
    )


async def test_a_database_without_tables_asks_for_migrate(cli_env: dict[str, str]) -> None:
    result = await run(cli_env, "customers")
    assert result.returncode == 1
    assert result.stderr.strip().endswith("has no tables yet: run `extranet migrate` first.")
    assert len(result.stderr.strip().splitlines()) == 1


async def test_an_unreachable_redis_is_one_line_naming_it(cli_env: dict[str, str]) -> None:
    assert (await run(cli_env, "migrate")).returncode == 0
    url = f"redis://:s3cret-pass@127.0.0.1:{free_port()}/0"
    result = await run({**cli_env, "BROADCAST_URL": url}, "demo")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Cannot use Redis at BROADCAST_URL=redis://:***@127.0.0.1:")
    assert "s3cret" not in result.stderr


async def test_demo_is_refused_in_production_unless_forced(cli_env: dict[str, str]) -> None:
    # given a production database
    production = {**cli_env, "EXTRANET_ENV": "production", "EXTRANET_MAIL": "off"}
    assert (await run(production, "migrate")).returncode == 0
    # when the demo is loaded
    refused = await run(production, "demo", "--if-empty")
    listed = await run(production, "customers")
    forced = await run(production, "demo", "--force-in-production")
    # then it is refused with the reason and the way out, and loaded only when forced
    assert refused.returncode == 2
    assert "EXTRANET_ENV is production" in refused.stderr
    assert "--force-in-production" in refused.stderr
    assert "No customers yet" in listed.stdout
    assert forced.returncode == 0, forced.stderr
    assert "anna@acme.example" in forced.stdout


async def test_demo_in_development_needs_no_flag(cli_env: dict[str, str]) -> None:
    assert (await run(cli_env, "migrate")).returncode == 0
    assert (await run(cli_env, "demo")).returncode == 0


async def test_customers_lists_slugs_transliterated_from_the_names(
    cli_env: dict[str, str],
) -> None:
    # given customers with names in other scripts
    assert (await run(cli_env, "migrate")).returncode == 0
    for name in ("Müller Logistik GmbH", "Straße", "Ærø Shipping"):
        created = await run(cli_env, "create-customer", name)
        assert created.returncode == 0, created.stderr
    # when
    listed = await run(cli_env, "customers")
    contact = await run(
        cli_env,
        "create-user",
        "jonas@mueller.example",
        "--role",
        "CUSTOMER_ADMIN",
        "--customer",
        "muller-logistik-gmbh",
        stdin="a long and unusual passphrase\n",
    )
    # then
    assert listed.returncode == 0, listed.stderr
    rows = [line.split(None, 1) for line in listed.stdout.splitlines()]
    assert rows == [
        ["slug", "name"],
        ["aero-shipping", "Ærø Shipping"],
        ["muller-logistik-gmbh", "Müller Logistik GmbH"],
        ["strasse", "Straße"],
    ]
    assert contact.returncode == 0, contact.stderr


INBOX = "{ notifications { totalCount edges { node { event { __typename } } } } }"


async def _inbox_size(http: httpx.AsyncClient, email: str) -> int:
    login = {"query": LOGIN.replace("anna@acme.example", email)}
    token = (await http.post("/graphql", json=login)).json()["data"]["login"]["accessToken"]
    headers = {"Authorization": f"Bearer {token}"}
    body = (await http.post("/graphql", json={"query": INBOX}, headers=headers)).json()
    assert "errors" not in body, body
    return int(body["data"]["notifications"]["totalCount"])


@pytest.mark.parametrize("age", ["0", "-1"])
async def test_prune_events_refuses_young_or_negative_ages_and_keeps_every_inbox(
    cli_env: dict[str, str], age: str
) -> None:
    # given the demo, whose posts notified anna and max
    assert (await run(cli_env, "migrate")).returncode == 0
    assert (await run(cli_env, "demo")).returncode == 0
    async with (
        serve_process(cli_env) as address,
        httpx.AsyncClient(base_url=f"http://{address}", timeout=10) as http,
    ):
        before = {e: await _inbox_size(http, e) for e in ("anna@acme.example", "max@acme.example")}
        # when an operator prunes with an age below a day, without and with --yes
        refused = await run(cli_env, "prune-events", f"--older-than-days={age}")
        forced = await run(cli_env, "prune-events", f"--older-than-days={age}", "--yes")
        after = {e: await _inbox_size(http, e) for e in before}
    # then it is refused; forced, a negative age still is, and 0 deletes no notification
    assert refused.returncode == 2
    assert "--yes" in refused.stderr or "negative" in refused.stderr
    assert all(before.values())
    assert after == before
    if age == "-1":
        assert forced.returncode == 2
        assert "negative" in forced.stderr
        return
    assert forced.returncode == 0, forced.stderr
    assert "older than 0 days." in forced.stdout
    assert "Kept " in forced.stdout
    assert "notifications refer to" in forced.stdout
    assert "Notifications were not touched." in forced.stdout
