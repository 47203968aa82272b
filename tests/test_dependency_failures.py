"""When PostgreSQL or Redis stops, every channel answers a typed SERVICE_UNAVAILABLE (HTTP
503 with ``retryAfter`` and ``Retry-After``; a websocket that cannot go on is closed with
1011), no protection is skipped, and everything serves again once the service is back.

End-to-end: two server processes in production mode over a PostgreSQL cluster and a
redis-server of the test's own, which the tests stop and start (never the machine's).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
import websockets
from starlette.applications import Starlette

from domain import totp
from domain.throttle import RedisAttempts
from models import User
from realtime.sockets import RedisSockets
from tests.conftest import Api
from tests.live import GraphQLSocket, load_demo, serve_process
from tests.services import PostgresProcess, RedisProcess
from tests.world import PASSWORD as WORLD_PASSWORD
from tests.world import World

pytestmark = pytest.mark.end_to_end

PASSWORD = "demo-extranet-2026"
LOGIN = """mutation ($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken } }"""
COMPLETE = """mutation ($token: String!, $code: String!) {
  completeLogin(input: {mfaToken: $token, code: $code}) { accessToken } }"""
ME = "{ me { name } }"
PORTAL = """{ projects(first: 5) { edges { node { id name timelineCursor
  pages(first: 1) { edges { node { id } } } } } } }"""
POST = """mutation ($project: ID!, $body: String!) {
  postMicropost(input: {projectId: $project, body: $body}) { micropost { id } } }"""
TIMELINE = """subscription ($project: ID!, $after: String) {
  projectTimeline(projectId: $project, after: $after) {
  ... on MicropostPosted { micropost { body } } } }"""
PRESENCE = """subscription ($page: ID!) { pagePresence(pageId: $page) {
  people { user { name } } } }"""
ATTACHMENTS = """query ($page: ID!) { node(id: $page) { ... on Page {
  attachments { downloadUrl } } } }"""
INTERNAL_TEXT = ("errno", "refused", "asyncpg", "redis", "traceback", "connect call")


def failing(health: dict[str, Any]) -> list[str]:
    """The checks of a /readyz answer that fail."""
    return [name for name, [check] in health["checks"].items() if check["status"] == "fail"]


class Http:
    """One server process over HTTP, signed in as someone (or no one)."""

    def __init__(self, address: str, token: str = "") -> None:
        self.base = f"http://{address}"
        self.token = token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def post(self, query: str, **variables: Any) -> httpx.Response:
        async with httpx.AsyncClient(timeout=15) as http:
            return await http.post(
                f"{self.base}/graphql",
                json={"query": query, "variables": variables},
                headers=self.headers,
            )

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        body = (await self.post(query, **variables)).json()
        assert "errors" not in body, body
        return dict(body["data"])

    async def get(self, path: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=15) as http:
            return await http.get(f"{self.base}{path}", headers=self.headers)

    async def upload(self, page: str, content: bytes) -> httpx.Response:
        async with httpx.AsyncClient(timeout=15) as http:
            return await http.post(
                f"{self.base}/pages/{page}/attachments?name=notes.txt",
                content=content,
                headers=self.headers,
            )

    async def login(self, email: str) -> str:
        self.token = (await self.data(LOGIN, email=email, password=PASSWORD))["login"][
            "accessToken"
        ]
        return self.token


def assert_unavailable(response: httpx.Response) -> None:
    """A 503 whose body is one typed GraphQL error with a retry hint, and nothing internal."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert int(response.headers["retry-after"]) > 0
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["extensions"]["retryAfter"] == int(response.headers["retry-after"])
    assert not any(word in error["message"].lower() for word in INTERNAL_TEXT), error


def assert_typed(errors: list[dict[str, Any]]) -> None:
    assert [e["extensions"]["code"] for e in errors] == ["SERVICE_UNAVAILABLE"], errors
    assert not any(word in errors[0]["message"].lower() for word in INTERNAL_TEXT), errors


async def closed_with(sock: GraphQLSocket) -> tuple[int, str]:
    """The code and reason of the close frame the server sends next."""
    try:
        while True:
            await sock.receive()
    except websockets.ConnectionClosed as closed:
        frame = closed.rcvd
    assert frame is not None, "the socket was dropped without a close frame"
    return frame.code, frame.reason


async def reply(sock: GraphQLSocket, operation: str) -> dict[str, Any]:
    """The next message for ``operation`` (those that end other operations are skipped)."""
    while True:
        message = await sock.receive(within=20)
        if message.get("id") == operation:
            return message
        assert message["type"] == "complete", message


async def posted(sock: GraphQLSocket) -> str:
    """The body of the next micropost the timeline subscription delivers (an event it
    could not deliver while a service was away must have said so, typed)."""
    while True:
        message = await sock.receive(within=20)
        assert message["type"] == "next", message
        if not message["payload"].get("errors"):
            return str(message["payload"]["data"]["projectTimeline"]["micropost"]["body"])
        assert_typed(message["payload"]["errors"])


@pytest.fixture
async def production(
    own_postgres: PostgresProcess, own_redis: RedisProcess, tmp_path: Path
) -> dict[str, str]:
    """The environment of a production deployment over the test's own services, with the
    demo data loaded."""
    env = {
        **os.environ,
        "DATABASE_URL": own_postgres.url,
        "BROADCAST_URL": own_redis.url,
        "EXTRANET_SECRET_KEY": "dependency-failures-secret-key-long-enough-42",
        "EXTRANET_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
        "EXTRANET_ENV": "development",
        "EXTRANET_SMTP_URL": f"maildir://{tmp_path / 'mail'}",
    }
    await load_demo(env)
    return {**env, "EXTRANET_ENV": "production", "EXTRANET_MAIL": "off"}


async def test_while_the_database_is_away_every_channel_answers_service_unavailable(
    production: dict[str, str], own_postgres: PostgresProcess
) -> None:
    async with serve_process(production) as first, serve_process(production) as second:
        # given anna signed in on the first process, sam on the second
        anna, sam = Http(first), Http(second)
        await anna.login("anna@acme.example")
        await sam.login("sam@provider.example")
        edges = (await anna.data(PORTAL))["projects"]["edges"]
        [portal] = [e["node"] for e in edges if e["node"]["name"] == "Warehouse portal relaunch"]
        page = portal["pages"]["edges"][0]["node"]["id"]
        timeline = {"project": portal["id"], "after": portal["timelineCursor"]}
        assert (await anna.upload(page, b"before")).status_code == 201
        [attachment] = (await anna.data(ATTACHMENTS, page=page))["node"]["attachments"]
        download = attachment["downloadUrl"].removeprefix(anna.base)
        async with (
            GraphQLSocket.open(first, anna.token) as following,
            GraphQLSocket.open(second, anna.token) as idle,
        ):
            for sock in (following, idle):
                assert (await sock.receive())["type"] == "connection_ack"
            await following.subscribe("live", TIMELINE, timeline)
            await sam.data(POST, project=portal["id"], body="before the outage")
            assert await posted(following) == "before the outage"  # the subscription is live

            # when PostgreSQL stops
            own_postgres.stop()

            # then HTTP with a token, and without, answers 503 SERVICE_UNAVAILABLE, also
            # to many requests at once on both processes
            on_both = [Http(address, anna.token) for address in (first, second) * 10]
            for response in await asyncio.gather(*(http.post(ME) for http in on_both)):
                assert_unavailable(response)
            assert_unavailable(await Http(second).post(LOGIN, email="max@acme.example",
                                                        password=PASSWORD))  # fmt: skip
            # uploads and downloads too
            assert_unavailable(await anna.upload(page, b"during"))
            assert_unavailable(await anna.get(download))
            # /readyz names the database; /healthz, the process, still answers
            for address in (first, second):
                ready = await Http(address).get("/readyz")
                assert ready.status_code == 503
                assert failing(ready.json()) == ["database:responseTime"]
                assert int(ready.headers["retry-after"]) > 0
                assert (await Http(address).get("/healthz")).status_code == 200
            # a new websocket is closed with 1011 after connection_init, with a reason
            async with GraphQLSocket.open(first, anna.token) as late:
                code, reason = await closed_with(late)
            assert code == 1011
            assert "unavailable" in reason
            # an operation on an open socket gets the typed error; the socket stays open
            await idle.subscribe("raced", TIMELINE, timeline)
            answer = await reply(idle, "raced")
            assert answer["type"] in ("error", "next"), answer
            assert_typed(answer["payload"] if answer["type"] == "error" else
                         answer["payload"]["errors"])  # fmt: skip

            # when PostgreSQL is back
            own_postgres.start()
            # then the first request of each process is served (the pools reconnect)
            started = time.monotonic()
            for response in await asyncio.gather(anna.post(ME), sam.post(ME)):
                assert response.status_code == 200, response.text
            recovery = time.monotonic() - started
            print(f"\nrequests answer again {recovery:.2f} s after PostgreSQL is back")

            # then the open sockets serve on: what is posted reaches the live subscription
            await sam.data(POST, project=portal["id"], body="after the outage")
            assert await posted(following) == "after the outage"
            await idle.send({"id": "again", "type": "subscribe", "payload": {"query": ME}})
            again = await reply(idle, "again")
            assert again["payload"]["data"] == {"me": {"name": "Anna Lead (Acme)"}}
        # and new sockets, uploads, downloads and /readyz work again
        async with GraphQLSocket.open(first, anna.token) as fresh:
            assert (await fresh.receive())["type"] == "connection_ack"
        assert (await anna.upload(page, b"after")).status_code == 201
        assert (await anna.get(download)).status_code == 200
        assert (await anna.get("/readyz")).json()["status"] == "pass"
        # and a restart while no request comes leaves no stale pooled connection behind
        own_postgres.stop()
        own_postgres.start()
        for response in await asyncio.gather(anna.post(ME), sam.post(ME)):
            assert response.status_code == 200, response.text


async def test_while_redis_is_away_no_sign_in_or_socket_goes_unprotected(
    production: dict[str, str], own_redis: RedisProcess
) -> None:
    async with serve_process(production) as first, serve_process(production) as second:
        anna = Http(first)
        await anna.login("anna@acme.example")
        edges = (await anna.data(PORTAL))["projects"]["edges"]
        [portal] = [e["node"] for e in edges if e["node"]["name"] == "Warehouse portal relaunch"]
        page = portal["pages"]["edges"][0]["node"]["id"]
        timeline = {"project": portal["id"], "after": portal["timelineCursor"]}
        async with GraphQLSocket.open(second, anna.token) as open_before:
            assert (await open_before.receive())["type"] == "connection_ack"
            await open_before.subscribe("live", TIMELINE, timeline)

            # when Redis stops
            own_redis.stop()

            # then a sign-in is not checked without its limits
            for address in (first, second):
                assert_unavailable(await Http(address).post(LOGIN, email="max@acme.example",
                                                             password=PASSWORD))  # fmt: skip
            # a new websocket, which cannot be counted, is closed with 1011
            async with GraphQLSocket.open(first, anna.token) as late:
                code, _ = await closed_with(late)
            assert code == 1011
            # /readyz names Redis
            ready = await anna.get("/readyz")
            assert ready.status_code == 503
            assert failing(ready.json()) == ["redis:responseTime"]
            # what needs only the database still serves, posting included
            assert (await anna.data(ME)) == {"me": {"name": "Anna Lead (Acme)"}}
            await anna.data(POST, project=portal["id"], body="while Redis is away")
            # page presence, which lives in Redis, answers the typed error
            await open_before.subscribe("presence", PRESENCE, {"page": page})
            presence = await reply(open_before, "presence")
            assert presence["type"] in ("error", "next"), presence
            assert_typed(presence["payload"] if presence["type"] == "error" else
                         presence["payload"]["errors"])  # fmt: skip
            if presence["type"] == "next":  # and it ends: the client subscribes again later
                assert (await reply(open_before, "presence"))["type"] == "complete"

            # when Redis is back
            own_redis.start()
            # then the first sign-in of each process works, under the limits
            assert await Http(second).login("max@acme.example")
            assert await Http(first).login("max@acme.example")
            async with GraphQLSocket.open(first, anna.token) as fresh:
                assert (await fresh.receive())["type"] == "connection_ack"
            # and the post written meanwhile reaches the subscription opened before
            assert await posted(open_before) == "while Redis is away"
            await open_before.send({"id": "1", "type": "subscribe", "payload": {"query": ME}})
            assert (await reply(open_before, "1"))["type"] == "next"


async def test_after_a_redis_restart_the_first_sign_in_and_code_count_under_the_limits(
    api: Api, world: World, app: Starlette, own_redis: RedisProcess,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # given sign-in limits kept in a Redis that has served before (pooled connections)
    store = RedisAttempts(own_redis.url, "restarted")
    monkeypatch.setattr(app.state.graphql.throttle, "store", store)
    secret = totp.new_secret()
    await User.filter(id=world.anna.id).update(totp_secret=secret)
    password_step = await api(LOGIN, {"email": "anna@acme.example", "password": WORLD_PASSWORD})
    assert password_step.codes == ["MFA_REQUIRED"]
    token = password_step.errors[0]["extensions"]["mfaToken"]
    try:
        # when Redis restarts, the next code is checked under the limits (not refused)
        own_redis.stop()
        own_redis.start()
        signed_in = await api(COMPLETE, {"token": token, "code": totp.current_code(secret)})
        assert signed_in.codes == []
        assert signed_in.data["completeLogin"]["accessToken"]
        # and after another restart, the first wrong password is counted
        own_redis.stop()
        own_redis.start()
        wrong = await api(LOGIN, {"email": "max@acme.example", "password": "wrong"})
        assert wrong.codes == ["UNAUTHENTICATED"]
        counts = aioredis.from_url(own_redis.url)
        try:
            assert [key async for key in counts.scan_iter("restarted.signin.*")]
        finally:
            await counts.aclose()
        # when Redis is away, neither a password nor a code is checked
        own_redis.stop()
        refused = await api(LOGIN, {"email": "max@acme.example", "password": WORLD_PASSWORD})
        assert refused.status == 503
        assert_typed(refused.errors)
    finally:
        await store.close()


async def test_sockets_a_restarted_redis_lost_count_again_at_the_next_renewal(
    own_redis: RedisProcess,
) -> None:
    # given a process that holds one socket of user 7, who may hold one
    sockets = RedisSockets(own_redis.url, "restarted")
    try:
        held = await sockets.open(7, limit=1)
        assert held is not None
        # when Redis restarts without its data, and the process renews its sockets
        own_redis.stop()
        own_redis.start()
        await sockets.renew()
        # then the held socket counts again: a second one is refused
        assert await sockets.open(7, limit=1) is None
        # and a socket closed meanwhile is not counted again
        await sockets.close(7, held)
        await sockets.renew()
        assert await sockets.open(7, limit=1) is not None
    finally:
        await sockets.aclose()
