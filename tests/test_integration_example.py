"""The example integration (clients/integrations) against a real server: a service
account's token provisions a customer from the sample CRM export, twice without
duplicates; the webhook receiver prints signed events in order, refuses a bad signature,
is stopped, and on its restart catches up with nothing missing."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser import Api, Server, demo_server
from tests.live import until
from tests.services import free_port

EXAMPLE = Path(__file__).resolve().parent.parent / "clients" / "integrations"
ADMIN = "admin@provider.example"
SAM = "sam@provider.example"


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    tmp = tmp_path_factory.mktemp("integration-example")
    async with demo_server(tmp, EXTRANET_WEBHOOK_ALLOW_NETWORKS="127.0.0.1/32") as running:
        yield running


async def _sync(env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLE / "crm_sync.py"), str(EXAMPLE / "customers.csv"),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


class Receiver:
    """webhook_receiver.py as a process; the events it printed so far."""

    def __init__(self, env: dict[str, str], port: int, state: Path) -> None:
        self.env, self.port, self.state = env, port, state
        self.printed: list[dict[str, Any]] = []
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, str(EXAMPLE / "webhook_receiver.py"),
            "--port", str(self.port), "--state", str(self.state),
            env=self.env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert self.process.stderr is not None
        assert self.process.stdout is not None
        while b"listening on" not in (line := await self.process.stderr.readline()):
            assert line, "the receiver ended before it listened"
        self._reader = asyncio.create_task(self._read(self.process.stdout))

    async def _read(self, stdout: asyncio.StreamReader) -> None:
        while line := await stdout.readline():
            self.printed.append(json.loads(line))

    async def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            await self.process.wait()
            assert self._reader is not None
            await self._reader
            self.process = None


async def test_sync_and_receiver_against_a_real_server(server: Server, tmp_path: Path) -> None:
    api = Api(server)
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    account = (
        await api(
            ADMIN,
            'mutation { createServiceAccount(input: {name: "CRM sync", role: ADMIN}) '
            "{ serviceAccount { id } } }",
        )
    )["createServiceAccount"]["serviceAccount"]
    token = (
        await api(
            ADMIN,
            "mutation ($input: CreateServiceAccountTokenInput!) "
            "{ createServiceAccountToken(input: $input) { token } }",
            input={
                "serviceAccountId": account["id"],
                "name": "nightly CRM export",
                "scopes": ["customers:write", "projects:write", "webhooks:read"],
                "expiresAt": expires,
            },
        )
    )["createServiceAccountToken"]["token"]
    env = {**os.environ, "EXTRANET_URL": server.url, "EXTRANET_TOKEN": token}

    # The export, twice: created, then nothing new.
    status, out, err = await _sync(env)
    assert status == 0, err
    assert "line 2: ACC-1001 Initech: customer created, project OPP-77 created" in out
    assert "lead contact created (invited)" in out
    assert "2 of 2 rows written" in out
    status, out, err = await _sync(env)
    assert status == 0, err
    assert "created" not in out
    assert "invited" not in out
    assert "line 2: ACC-1001 Initech: customer unchanged, project OPP-77 unchanged" in out
    customers = (
        await api(ADMIN, "{ customers(first: 100) { edges { node { id name emailDomains } } } }")
    )["customers"]["edges"]
    initech = [edge["node"] for edge in customers if edge["node"]["name"] == "Initech"]
    assert len(initech) == 1
    assert initech[0]["emailDomains"] == ["initech.example"]
    projects = (
        await api(
            SAM,
            "query ($c: ID) { projects(customerId: $c) { edges { node { id name } } } }",
            c=initech[0]["id"],
        )
    )["projects"]["edges"]
    assert sorted(edge["node"]["name"] for edge in projects) == [
        "Initech intranet",
        "TPS report archive",
    ]
    project = next(e["node"]["id"] for e in projects if e["node"]["name"] == "Initech intranet")

    # A row that fails names its line and makes the exit status non-zero.
    broken = tmp_path / "broken.csv"
    broken.write_text("external_id,company_name,projects\nACC-2001,Vandelay,OPP-1 without a name\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLE / "crm_sync.py"), str(broken),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err_bytes = await process.communicate()
    assert process.returncode == 1
    assert "line 2: ACC-2001 Vandelay: FAILED: projects:" in err_bytes.decode()

    # The receiver, registered for Initech's posts.
    port = free_port()
    endpoint = (
        await api(
            ADMIN,
            "mutation ($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: "
            "$input) { webhookEndpoint { id secret } } }",
            input={
                "url": f"http://127.0.0.1:{port}/",
                "eventTypes": ["MICROPOST_POSTED"],
                "customerId": initech[0]["id"],
            },
        )
    )["createWebhookEndpoint"]["webhookEndpoint"]
    receiver = Receiver(
        {**env, "WEBHOOK_ENDPOINT_ID": endpoint["id"], "WEBHOOK_SECRET": endpoint["secret"]},
        port,
        tmp_path / "receiver-state.json",
    )
    post = (
        "mutation ($p: ID!, $b: String!) "
        "{ postMicropost(input: {projectId: $p, body: $b}) { micropost { id } } }"
    )
    await receiver.start()
    try:
        for text in ("Kick-off on Monday", "Wireframes are up"):
            await api(SAM, post, p=project, b=text)
        await until(lambda: len(receiver.printed) == 2, 15, what="two pushed events")
        assert all(event["via"] == "push" for event in receiver.printed)

        async with httpx.AsyncClient(timeout=5) as http:
            forged = await http.post(
                f"http://127.0.0.1:{port}/",
                content=b'{"type":"MICROPOST_POSTED"}',
                headers={
                    "webhook-id": "msg_forged",
                    "webhook-timestamp": str(int(datetime.now(UTC).timestamp())),
                    "webhook-signature": "v1,Zm9yZ2Vk",
                },
            )
        assert forged.status_code == 401

        await receiver.stop()
        for text in ("Design review moved", "Staging is live"):
            await api(SAM, post, p=project, b=text)

        async def missed() -> bool:
            log = await api(
                ADMIN,
                "query ($id: ID!) { webhookEndpoint(id: $id) "
                "{ deliveries { edges { node { status } } } } }",
                id=endpoint["id"],
            )
            edges = log["webhookEndpoint"]["deliveries"]["edges"]
            return any(edge["node"]["status"] == "FAILED" for edge in edges)

        await until(missed, 15, what="a delivery that failed while the receiver was down")
        await receiver.start()
        await until(lambda: len(receiver.printed) == 4, 15, what="the missed events pulled")
    finally:
        await receiver.stop()

    printed = receiver.printed
    assert [event["via"] for event in printed] == ["push", "push", "pull", "pull"]
    every = (
        await api(
            ADMIN,
            "query ($id: ID!) { webhookEvents(endpointId: $id) { cursor webhookId } }",
            id=endpoint["id"],
        )
    )["webhookEvents"]
    assert [(e["cursor"], e["webhookId"]) for e in printed] == [
        (e["cursor"], e["webhookId"]) for e in every
    ]
    assert len({event["webhookId"] for event in printed}) == 4
    assert {event["type"] for event in printed} == {"MICROPOST_POSTED"}
