"""Webhooks: signed deliveries in log order to a real receiver on 127.0.0.1, retries on the
schedule with the same webhook-id, pausing, probing, disabling, rotation, and what a
customer's endpoint may receive."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook
from starlette.applications import Starlette

from actions import microposts, requests
from domain import webhooks as hooks
from infra.egress import networks, post, resolve
from models import (
    AuditEntry,
    Job,
    JobStatus,
    OutgoingMail,
    Visibility,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookState,
)
from realtime.bus import EventBus
from realtime.stream import decode_cursor
from tests.conftest import Api, gid
from tests.live import EXTRANET, until
from tests.world import World

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that answers ``status`` (and ``location``) and keeps
    what it received: (headers, body)."""

    status: int = 204
    location: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    hold: set[str] = field(default_factory=set)  # webhook-ids whose first request is held
    released: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await self._answer(reader, writer)  # unless the sender died meanwhile

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")[1:]
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines) if k
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.received.append((headers, body))
        if headers.get("webhook-id") in self.hold:
            self.hold.discard(headers["webhook-id"])
            await self.released.wait()  # held open until the test lets go
        extra = f"Location: {self.location}\r\n" if self.location else ""
        writer.write(
            f"HTTP/1.1 {self.status} X\r\nContent-Length: 2\r\n{extra}"
            "Connection: close\r\n\r\nok".encode()
        )
        await writer.drain()
        writer.close()

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    got = Receiver()
    server = await asyncio.start_server(got.handle, "127.0.0.1", 0)
    got.port = server.sockets[0].getsockname()[1]
    async with server:
        yield got


CREATE = """
mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    webhookEndpoint { id secret state cursor }
  }
}"""


async def _create(api: Api, user: Any, url: str, **extra: Any) -> dict[str, Any]:
    result = await api(
        CREATE, {"input": {"url": url, "eventTypes": ["MICROPOST_POSTED"], **extra}}, as_user=user
    )
    assert not result.errors, result.errors
    endpoint: dict[str, Any] = result.data["createWebhookEndpoint"]["webhookEndpoint"]
    return endpoint


async def _run(app: Starlette, at: datetime | None = None) -> int:
    ran: int = await app.state.jobs.run_due(now=at or datetime.now(UTC))
    return ran


async def _post(world: World, bus: EventBus, text: str) -> None:
    await microposts.post_micropost(world.sam, bus, project_id=world.portal.id, body=text)


def _verify(secret: str, headers: dict[str, str], body: bytes) -> Any:
    return Webhook(secret).verify(body, headers)


async def test_signed_deliveries_in_order_with_cursors(
    api: Api, world: World, app: Starlette, bus: EventBus, receiver: Receiver
) -> None:
    endpoint = await _create(api, world.admin, receiver.url)
    assert endpoint["state"] == "ACTIVE"
    for text in ("one", "two", "three"):
        await _post(world, bus, text)
    await _run(app)
    bodies = receiver.bodies()
    assert [b["type"] for b in bodies] == ["MICROPOST_POSTED"] * 3
    ids = [decode_cursor(b["cursor"]) for b in bodies]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    for headers, body in receiver.received:
        assert _verify(endpoint["secret"], headers, body)["type"] == "MICROPOST_POSTED"
        assert headers["webhook-signature"].startswith("v1,")
    assert bodies[0]["data"]["projectId"] == gid(world.portal)
    assert (await WebhookEndpoint.get()).cursor == ids[-1]


async def test_retries_keep_the_webhook_id_then_pause_probe_and_resume(
    api: Api, world: World, app: Starlette, bus: EventBus, receiver: Receiver
) -> None:
    await _create(api, world.admin, receiver.url)
    receiver.status = 500
    await _post(world, bus, "failing")
    moment = datetime.now(UTC)
    await _run(app, moment)
    for delay in hooks.RETRY_DELAYS:
        moment += delay + timedelta(seconds=1)
        await _run(app, moment)
    assert len(receiver.received) == hooks.ATTEMPTS
    assert len({h["webhook-id"] for h, _ in receiver.received}) == 1
    row = await WebhookEndpoint.get()
    assert row.state is WebhookState.PAUSED
    assert await OutgoingMail.filter(
        user_id=world.admin.id, subject="A webhook endpoint was paused"
    ).exists()
    assert await AuditEntry.filter(action="webhook.paused").exists()
    assert "500" in row.state_reason
    assert row.state_since is not None
    attempts = await WebhookDelivery.filter(endpoint_id=row.id).order_by("id")
    assert [d.attempt for d in attempts] == list(range(1, hooks.ATTEMPTS + 1))
    assert all(d.response_code == 500 and d.response_body == "ok" for d in attempts)
    await _post(world, bus, "later")  # a paused endpoint keeps its pending event first
    receiver.status = 200
    await _run(app, moment + hooks.PROBE_EVERY + timedelta(seconds=1))
    row = await WebhookEndpoint.get()
    assert row.state is WebhookState.ACTIVE
    ids = [decode_cursor(b["cursor"]) for b in receiver.bodies()]
    assert ids == sorted(ids)
    assert len(set(ids)) == 2


async def test_redirects_are_failures_and_a_long_pause_disables(
    api: Api, world: World, app: Starlette, bus: EventBus, receiver: Receiver, settings: Any
) -> None:
    endpoint = await _create(api, world.admin, receiver.url)
    receiver.status, receiver.location = 302, "http://127.0.0.1:1/elsewhere"
    await _post(world, bus, "moved")
    moment = datetime.now(UTC)
    await _run(app, moment)
    first = await WebhookDelivery.get()
    assert first.response_code == 302
    assert "redirect" in first.error
    row = await WebhookEndpoint.get()
    await WebhookEndpoint.filter(id=row.id).update(
        state=WebhookState.PAUSED, state_since=moment, next_attempt_at=moment
    )
    later = moment + timedelta(seconds=settings.webhook_disable_after + 1)
    await _run(app, later)
    assert (await WebhookEndpoint.get()).state is WebhookState.DISABLED
    receiver.status = 200
    result = await api(
        "mutation($id: ID!) { enableWebhookEndpoint(input: {endpointId: $id}) "
        "{ webhookEndpoint { state } } }",
        {"id": endpoint["id"]},
        as_user=world.admin,
    )
    assert result.data["enableWebhookEndpoint"]["webhookEndpoint"]["state"] == "ACTIVE"
    await _run(app, later)
    assert receiver.received[-1][0]["webhook-id"] == first.webhook_id


async def test_rotation_sends_both_signatures(
    api: Api, world: World, app: Starlette, bus: EventBus, receiver: Receiver
) -> None:
    endpoint = await _create(api, world.admin, receiver.url)
    result = await api(
        "mutation($id: ID!) { rotateWebhookSecret(input: {endpointId: $id}) "
        "{ webhookEndpoint { secret previousSecretExpiresAt } } }",
        {"id": endpoint["id"]},
        as_user=world.admin,
    )
    rotated = result.data["rotateWebhookSecret"]["webhookEndpoint"]
    assert rotated["secret"] != endpoint["secret"]
    assert rotated["previousSecretExpiresAt"]
    await _post(world, bus, "rotated")
    await _run(app)
    headers, body = receiver.received[0]
    assert len(headers["webhook-signature"].split(" ")) == 2
    _verify(endpoint["secret"], headers, body)
    _verify(rotated["secret"], headers, body)


async def test_a_customer_endpoint_gets_only_what_its_owner_may_read(
    api: Api, world: World, app: Starlette, bus: EventBus, receiver: Receiver
) -> None:
    await _create(api, world.anna, receiver.url, eventTypes=[])
    await microposts.post_micropost(
        world.olivia, bus, project_id=world.loyalty.id, body="Globex news"
    )
    await requests.reply_to_request(
        world.sam,
        bus,
        request_id=world.acme_request.id,
        body="internal note",
        visibility=Visibility.INTERNAL,
    )
    await microposts.post_micropost(
        world.sam, bus, project_id=world.portal.id, body="internal", visibility=Visibility.INTERNAL
    )
    await _post(world, bus, "shared with Acme")
    await _run(app)
    bodies = receiver.bodies()
    assert len(bodies) == 1, bodies
    assert bodies[0]["data"]["customerId"] == gid(world.acme)
    assert bodies[0]["data"]["visibility"] == "SHARED"
    result = await api("{ webhookEndpoints { id } }", as_user=world.gina)
    assert result.data["webhookEndpoints"] == []


async def test_webhook_events_pulls_what_was_missed(
    api: Api, world: World, app: Starlette, bus: EventBus, receiver: Receiver
) -> None:
    endpoint = await _create(api, world.admin, receiver.url)
    for text in ("a", "b", "c"):
        await _post(world, bus, text)
    query = (
        "query($id: ID!, $after: String) { webhookEvents(endpointId: $id, after: $after, "
        "first: 2) { type cursor webhookId data } }"
    )
    start = {"id": endpoint["id"], "after": endpoint["cursor"]}
    first = await api(query, start, as_user=world.admin)
    assert not first.errors, first.errors
    page = first.data["webhookEvents"]
    assert len(page) == 2
    rest = await api(
        query, {"id": endpoint["id"], "after": page[-1]["cursor"]}, as_user=world.admin
    )
    assert len(rest.data["webhookEvents"]) == 1
    other = await api(query, {"id": endpoint["id"]}, as_user=world.gina)
    assert other.codes == ["NOT_FOUND"]


async def test_events_are_kept_30_days_while_endpoints_exist(
    api: Api, world: World, bus: EventBus, receiver: Receiver
) -> None:
    from actions.events import prune_events
    from models import Event

    await _create(api, world.admin, receiver.url)
    before = await Event.all().count()
    await prune_events(timedelta(0), force=True)
    assert await Event.all().count() == before


async def test_a_worker_killed_mid_delivery_loses_nothing(
    api: Api, world: World, app: Starlette, bus: EventBus, receiver: Receiver, tmp_path: Path
) -> None:
    """A real `extranet worker` delivers; it is killed (SIGKILL) while the receiver holds
    the second event's request open; another worker takes over once the lease has run out:
    every event arrives, in order, the repeated one with the same webhook-id."""
    settings = app.state.settings
    endpoint = await _create(api, world.admin, receiver.url)
    endpoint_row = await WebhookEndpoint.get()
    for text in ("first", "second", "third"):
        await _post(world, bus, text)
    pulled = await api(
        "query($id: ID!, $after: String) { webhookEvents(endpointId: $id, after: $after) "
        "{ webhookId } }",
        {"id": endpoint["id"], "after": endpoint["cursor"]},
        as_user=world.admin,
    )
    expected = [e["webhookId"] for e in pulled.data["webhookEvents"]]
    assert len(expected) == 3
    receiver.hold.add(expected[1])
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "BROADCAST_URL": "memory://",
        "EXTRANET_SECRET_KEY": settings.secret_key,
        "EXTRANET_WEBHOOK_ALLOW_NETWORKS": "127.0.0.1/32",
        "PYTHONPATH": str(ROOT),
        "EXTRANET_JOBS_LEASE": "2",
        "EXTRANET_JOBS_POLL_INTERVAL": "0.1",
    }

    async def start(n: int) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            EXTRANET,
            "worker",
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"worker-{n}.log").open("w"),
        )

    def ids() -> list[str]:
        return [headers["webhook-id"] for headers, _ in receiver.received]

    workers = {worker.pid: worker for worker in [await start(1), await start(2)]}
    try:
        # given a worker in the middle of delivering the second event
        await until(lambda: len(ids()) == 2, 60, what="the second delivery began")
        job = await Job.get(key=hooks.deliver_key(endpoint_row.id))
        assert job.status is JobStatus.RUNNING
        assert job.leased_by
        delivering = workers[int(job.leased_by.split(":")[1])]
        # when it is killed
        delivering.send_signal(signal.SIGKILL)
        await delivering.wait()
        receiver.released.set()
        # then the other delivers the rest once the lease has run out
        await until(lambda: expected[2] in ids(), 60, what="the third event arrived")
    finally:
        for worker in workers.values():
            if worker.returncode is None:
                worker.terminate()
                await worker.wait()
    got = ids()
    assert got == [expected[0], expected[1], expected[1], expected[2]], got
    cursors = [decode_cursor(b["cursor"]) for b in receiver.bodies()]
    assert cursors == sorted(cursors)
    for headers, body in receiver.received:
        _verify(endpoint["secret"], headers, body)


async def test_delivery_log_and_manual_redelivery(
    api: Api, world: World, app: Starlette, bus: EventBus, receiver: Receiver
) -> None:
    endpoint = await _create(api, world.admin, receiver.url)
    await _post(world, bus, "logged")
    await _run(app)
    query = (
        "query($id: ID!) { webhookEndpoint(id: $id) { deliveries(first: 10) { edges { node "
        "{ id webhookId attempt manual status responseCode durationMs } } } } }"
    )
    log = await api(query, {"id": endpoint["id"]}, as_user=world.admin)
    [first] = [e["node"] for e in log.data["webhookEndpoint"]["deliveries"]["edges"]]
    assert first["status"] == "SUCCEEDED"
    assert first["responseCode"] == 204
    result = await api(
        "mutation($id: ID!) { redeliverWebhook(input: {deliveryId: $id}) "
        "{ webhookEndpoint { id } } }",
        {"id": first["id"]},
        as_user=world.admin,
    )
    assert not result.errors, result.errors
    await _run(app)
    assert [h["webhook-id"] for h, _ in receiver.received] == [first["webhookId"]] * 2
    log = await api(query, {"id": endpoint["id"]}, as_user=world.admin)
    newest = log.data["webhookEndpoint"]["deliveries"]["edges"][0]["node"]
    assert newest["manual"] is True
    assert newest["attempt"] == 2
    refused = await api(
        "mutation($id: ID!) { redeliverWebhook(input: {deliveryId: $id}) "
        "{ webhookEndpoint { id } } }",
        {"id": first["id"]},
        as_user=world.gina,
    )
    assert refused.codes == ["NOT_FOUND"]


async def test_an_answer_that_does_not_come_in_time_is_a_failure(receiver: Receiver) -> None:
    receiver.status = 200
    receiver.hold.add("msg_1_1")
    target = await resolve(receiver.url, networks(["127.0.0.1/32"]))
    with pytest.raises(TimeoutError):
        await post(target, b"{}", {"webhook-id": "msg_1_1"}, timeout=0.2)
    receiver.released.set()
    answer = await post(target, b"{}", {"webhook-id": "msg_1_2"}, timeout=5)
    assert answer.ok
    assert answer.body == "ok"
