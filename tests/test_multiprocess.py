"""Two server processes share PostgreSQL (or one SQLite file) and a Redis of the test's own:
what is posted through one reaches subscribers of the other, also across a Redis restart."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from graphql_schema.relay import node_pk
from infra.redis_clients import redis_client
from realtime.channels import project_channel
from tests.live import GraphQLSocket, load_demo, serve_process, until
from tests.services import RedisProcess, fresh_database

PASSWORD = "demo-extranet-2026"
LOGIN = """mutation ($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken } }"""
PORTAL = "{ projects(first: 5) { edges { node { id name timelineCursor } } } }"
POST = """mutation ($project: ID!, $body: String!) {
  postMicropost(input: {projectId: $project, body: $body}) { micropost { id } } }"""
TIMELINE = """subscription ($project: ID!, $after: String) {
  projectTimeline(projectId: $project, after: $after) {
  ... on MicropostPosted { cursor micropost { body } } } }"""


class Http:
    def __init__(self, address: str) -> None:
        self.address = address
        self.token = ""

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(
                f"http://{self.address}/graphql",
                json={"query": query, "variables": variables},
                headers=headers,
            )
        body = response.json()
        assert "errors" not in body, body
        return dict(body["data"])

    async def login(self, email: str) -> str:
        self.token = (await self(LOGIN, email=email, password=PASSWORD))["login"]["accessToken"]
        return self.token


@pytest.fixture
async def shared_env(tmp_path: Path, own_redis: RedisProcess) -> AsyncIterator[dict[str, str]]:
    async with fresh_database(tmp_path) as url:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "BROADCAST_URL": own_redis.url,
            "EXTRANET_SECRET_KEY": "multi-process-secret-key-long-enough-1234",
            "EXTRANET_ENV": "development",
        }
        await load_demo(env)
        yield env


async def _bodies(sock: GraphQLSocket, count: int) -> list[str]:
    bodies = []
    for _ in range(count):
        message = await sock.receive(within=20)
        assert message["type"] == "next", message
        bodies.append(message["payload"]["data"]["projectTimeline"]["micropost"]["body"])
    return bodies


async def _listening(env: dict[str, str], project: str, processes: int) -> None:
    """Until ``processes`` server processes listen to the project's channel in Redis (each
    process subscribes once, for all its subscribers), within 20 s."""
    namespace = env.get("BROADCAST_NAMESPACE") or "extranet"
    channel = f"{namespace}.{project_channel(node_pk(project, 'Project'))}"
    redis = redis_client(env["BROADCAST_URL"])

    async def listening() -> bool:
        [(_, count)] = await redis.pubsub_numsub(channel)
        return int(count) >= processes

    try:
        await until(listening, 20, what=f"{processes} process(es) listening to {channel}")
    finally:
        await redis.aclose()


async def _portal(http: Http) -> dict[str, str]:
    """The portal project's ID and its timeline cursor as of now."""
    edges = (await http(PORTAL))["projects"]["edges"]
    [portal] = [e["node"] for e in edges if e["node"]["name"] == "Warehouse portal relaunch"]
    return {"project": portal["id"], "after": portal["timelineCursor"]}


async def test_a_post_through_one_process_reaches_a_subscriber_of_the_other(
    shared_env: dict[str, str],
) -> None:
    async with serve_process(shared_env) as first, serve_process(shared_env) as second:
        writer, reader = Http(first), Http(second)
        await writer.login("sam@provider.example")
        token = await reader.login("max@acme.example")
        portal = await _portal(reader)
        async with GraphQLSocket.open(second, token) as sock:
            assert (await sock.receive())["type"] == "connection_ack"
            await sock.subscribe("1", TIMELINE, portal)
            await _listening(shared_env, portal["project"], 1)
            await writer(POST, project=portal["project"], body="from process one")
            assert await _bodies(sock, 1) == ["from process one"]


async def test_every_post_arrives_once_in_order_across_a_redis_restart(
    shared_env: dict[str, str],
    own_redis: RedisProcess,
) -> None:
    async with serve_process(shared_env) as first, serve_process(shared_env) as second:
        writer, reader = Http(first), Http(second)
        await writer.login("sam@provider.example")
        token = await reader.login("anna@acme.example")
        portal = await _portal(reader)
        async with (
            GraphQLSocket.open(second, token) as on_second,
            GraphQLSocket.open(first, token) as on_first,
        ):
            for sock in (on_second, on_first):
                assert (await sock.receive())["type"] == "connection_ack"
                await sock.subscribe("1", TIMELINE, portal)
            await _listening(shared_env, portal["project"], 2)
            sent = []
            for n in range(12):
                if n == 4:
                    own_redis.stop()  # posts 4..7 are made while Redis is down
                if n == 8:
                    own_redis.start()
                    await _listening(shared_env, portal["project"], 2)  # both listen again
                sent.append(f"post {n}")
                await writer(POST, project=portal["project"], body=sent[-1])
            received_second = await _bodies(on_second, len(sent))
            received_first = await _bodies(on_first, len(sent))
            with pytest.raises(TimeoutError):
                await on_second.receive(within=1)
    assert received_second == sent
    assert received_first == sent


PAGES = """{ projects(first: 5) { edges { node { name
  pages(first: 5) { edges { node { id title } } } } } } }"""
PRESENCE = """subscription ($page: ID!) {
  pagePresence(pageId: $page) { people { user { name } } } }"""


async def _present(sock: GraphQLSocket, within: float = 20) -> list[str]:
    message = await sock.receive(within=within)
    assert message["type"] == "next", message
    return [p["user"]["name"] for p in message["payload"]["data"]["pagePresence"]["people"]]


async def test_people_on_a_page_see_each_other_across_processes(
    shared_env: dict[str, str],
) -> None:
    async with serve_process(shared_env) as first, serve_process(shared_env) as second:
        on_first, on_second = Http(first), Http(second)
        anna = await on_first.login("anna@acme.example")
        max_ = await on_second.login("max@acme.example")
        edges = (await on_first(PAGES))["projects"]["edges"]
        [portal] = [e["node"] for e in edges if e["node"]["name"] == "Warehouse portal relaunch"]
        page = {"page": portal["pages"]["edges"][0]["node"]["id"]}
        async with GraphQLSocket.open(first, anna) as anna_sock:
            assert (await anna_sock.receive())["type"] == "connection_ack"
            await anna_sock.subscribe("p", PRESENCE, page)
            assert await _present(anna_sock) == ["Anna Lead (Acme)"]
            async with GraphQLSocket.open(second, max_) as max_sock:
                assert (await max_sock.receive())["type"] == "connection_ack"
                await max_sock.subscribe("p", PRESENCE, page)
                assert await _present(anna_sock) == ["Anna Lead (Acme)", "Max Member (Acme)"]
                # max leaves the page (the client stops the subscription)
                await max_sock.send({"id": "p", "type": "complete"})
                assert await _present(anna_sock) == ["Anna Lead (Acme)"]


async def test_a_users_sockets_are_limited_across_processes(
    shared_env: dict[str, str],
) -> None:
    env = {**shared_env, "EXTRANET_WS_MAX_CONNECTIONS_PER_USER": "2"}
    async with serve_process(env) as first, serve_process(env) as second:
        token = await Http(first).login("max@acme.example")
        async with (
            GraphQLSocket.open(first, token) as on_first,
            GraphQLSocket.open(second, token) as on_second,
        ):
            for sock in (on_first, on_second):
                assert (await sock.receive())["type"] == "connection_ack"
            # a third socket, on either process, is refused
            async with GraphQLSocket.open(first, token) as third:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await third.receive()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4403
