"""``Idempotency-Key``: a repeated mutation is answered with the first answer and not done
again; the same key with another request is a CONFLICT."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from actions import idempotency
from app.idempotency import request_hash, stored_key
from models import IdempotentRequest, Micropost, User
from tests.conftest import Api, gid
from tests.world import World

POST = """
mutation Post($id: ID!, $body: String!) {
  postMicropost(input: {projectId: $id, body: $body}) { micropost { id body } }
}
"""


async def _post(
    client: httpx.AsyncClient,
    api: Api,
    user: User,
    body: dict[str, Any],
    key: str | None = "9d3c1f8e-7b1a-4f7e-9a56-1c2b3d4e5f60",
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api.token_for(user)}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post("/graphql", json=body, headers=headers)


def _request(world: World, text: str = "Shipped the release") -> dict[str, Any]:
    return {"query": POST, "variables": {"id": gid(world.portal), "body": text}}


async def test_a_repeat_is_answered_with_the_first_answer_and_not_done_again(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    # given
    before = await Micropost.all().count()
    # when the same request is sent twice with the same key (a retry after a timeout)
    first = await _post(client, api, world.sam, _request(world))
    again = await _post(client, api, world.sam, _request(world))
    # then one post is made, and the repeat gets the first answer
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await Micropost.all().count() == before + 1


async def test_the_same_key_with_another_request_is_a_conflict(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    before = await Micropost.all().count()
    await _post(client, api, world.sam, _request(world))
    other = await _post(client, api, world.sam, _request(world, "Something else"))
    assert other.status_code == 409
    [error] = other.json()["errors"]
    assert error["extensions"] == {"code": "CONFLICT", "reason": "IDEMPOTENCY_KEY_REUSED"}
    assert await Micropost.all().count() == before + 1


async def test_a_repeat_while_the_first_still_runs_is_told_to_try_again(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    # given the first request with this key is running (claimed, unanswered)
    request = _request(world)
    key = "still-running"
    await idempotency.claim(f"user:{world.sam.id}", stored_key(key), request_hash(request))
    # when
    repeat = await _post(client, api, world.sam, request, key)
    # then
    assert repeat.status_code == 409
    assert repeat.headers["retry-after"] == "1"
    assert repeat.json()["errors"][0]["extensions"]["reason"] == "IDEMPOTENCY_KEY_IN_USE"


async def test_keys_are_the_callers_own_and_queries_ignore_them(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    before = await Micropost.all().count()
    await _post(client, api, world.sam, _request(world))
    # another person's request with the same key is theirs alone
    by_anna = await _post(client, api, world.anna, _request(world))
    assert by_anna.status_code == 200
    assert "idempotent-replayed" not in by_anna.headers
    assert await Micropost.all().count() == before + 2
    # a query with a key is just run
    query = await _post(client, api, world.sam, {"query": "{ me { name } }"}, "query-key")
    assert query.json()["data"]["me"]["name"] == "Sam"
    assert not await IdempotentRequest.exists(key=stored_key("query-key"))


async def test_a_malformed_key_is_refused(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    refused = await _post(client, api, world.sam, _request(world), "a key with spaces")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_records_are_replayed_for_24_hours_then_pruned(
    app: Starlette, client: httpx.AsyncClient, api: Api, world: World
) -> None:
    await _post(client, api, world.sam, _request(world))
    record = await IdempotentRequest.get(caller=f"user:{world.sam.id}")
    assert hashlib.sha256(b"x").hexdigest() != record.request_hash  # a hash, not the body
    # after 24 hours the background job deletes it
    later = datetime.now(UTC) + timedelta(hours=26)
    assert await app.state.jobs.run_due(now=later) >= 1
    assert not await IdempotentRequest.exists(id=record.id)
