"""Attacks on access tokens, idempotency keys and upserts: what a stolen, narrow or
confined credential, or a reader of the database, must not get."""

from __future__ import annotations

from typing import Any

import httpx

from graphql_schema.relay import node_pk
from models import ExternalId, IdempotentRequest, ServiceAccount, User
from tests.conftest import Api, gid
from tests.graphql.test_access_tokens import CREATE, _in, service_token, token_of
from tests.world import World

POST = """
mutation Post($id: ID!, $body: String!) {
  postMicropost(input: {projectId: $id, body: $body}) { micropost { id body } }
}
"""


async def _send(
    client: httpx.AsyncClient, token: str, body: dict[str, Any], key: str
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    return await client.post("/graphql", json=body, headers=headers)


async def test_a_narrower_token_of_the_same_person_gets_no_replay_of_their_session(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    # given anna posted from her session with a key
    body = {"query": POST, "variables": {"id": gid(world.portal), "body": "Shipped"}}
    first = await _send(client, api.token_for(world.anna), body, "shared-key-1")
    assert first.status_code == 200
    assert "errors" not in first.json(), first.text
    # when her read-only token sends the same request with the same key
    reader = await token_of(api, world.anna, ["projects:read"])
    again = await _send(client, reader, body, "shared-key-1")
    # then it is not answered with her session's answer: the token lacks the scope
    assert "idempotent-replayed" not in again.headers
    [error] = again.json()["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_a_stored_answer_keeps_no_token_a_database_reader_could_use(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    # given anna makes a token with an idempotency key
    body = {
        "query": CREATE,
        "variables": {
            "input": {"name": "Backup", "scopes": ["projects:read"], "expiresAt": _in(30)}
        },
    }
    key = "make-token-7f3a"
    first = await _send(client, api.token_for(world.anna), body, key)
    token = first.json()["data"]["createAccessToken"]["token"]
    # then what is stored names neither the token nor the key in plain text
    [row] = await IdempotentRequest.all()
    assert token not in row.body
    assert key not in row.key
    # and the retry still gets the first answer
    again = await _send(client, api.token_for(world.anna), body, key)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["data"]["createAccessToken"]["token"] == token


UPSERT_CONTACT = """
mutation Contact($input: UpsertContactInput!) {
  upsertContact(input: $input) { created user { id role } }
}
"""


async def test_a_contact_sync_cannot_take_over_a_service_account_of_its_customer(
    api: Api, world: World
) -> None:
    # given two service accounts of acme: a contact sync, and a read-only reporter
    sync, _ = await service_token(
        api, world, ["customers:write"], role="CUSTOMER_ADMIN", customer=world.acme
    )
    _, reporter_id = await service_token(
        api, world, ["projects:read"], role="CUSTOMER_MEMBER", customer=world.acme
    )
    reporter = await ServiceAccount.get(id=node_pk(reporter_id, "ServiceAccount"))
    reporter_user = await User.get(id=reporter.user_id)
    # when the sync upserts a "contact" with the reporter's address, as a lead contact
    result = await api(
        UPSERT_CONTACT,
        {
            "input": {
                "source": "hr",
                "externalId": "E-9",
                "customerId": gid(world.acme),
                "email": reporter_user.email,
                "name": "Promoted",
                "role": "CUSTOMER_ADMIN",
            }
        },
        token=sync,
    )
    # then it is refused like any address outside the customer, and nothing changed
    assert result.errors[0]["extensions"]["code"] == "CONFLICT"
    again = await User.get(id=reporter_user.id)
    assert (again.role, again.name) == (reporter_user.role, reporter_user.name)
    assert not await ExternalId.exists(external_id="E-9")


SEARCH = """
query Find($q: String!) {
  search(query: $q) { edges { node { node { __typename ... on Page { title } } } } }
}
"""


async def test_search_gives_a_token_only_the_kinds_its_scopes_read(api: Api, world: World) -> None:
    # given a token that reads projects but not pages
    token = await token_of(api, world.anna, ["projects:read"])
    # when it searches for a page's title
    found = await api(SEARCH, {"q": "booking concept"}, token=token)
    # then the page is not among the results; a session finds it
    assert found.errors == [], found.errors
    assert found.data["search"]["edges"] == []
    session = await api(SEARCH, {"q": "booking concept"}, as_user=world.anna)
    assert {"__typename": "Page", "title": "Acme booking concept"} in [
        e["node"]["node"] for e in session.data["search"]["edges"]
    ]
