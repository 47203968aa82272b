"""Access tokens for machines and service accounts: shown once, prefixed and checksummed,
bounded by scopes (FORBIDDEN naming the missing one), expiring, revocable, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from websockets.exceptions import ConnectionClosed

from domain.scopes import LAST_USED_EVERY, TOKEN_PATTERN, checksum_ok
from graphql_schema.integrations.scopes import FIELD_SCOPES
from graphql_schema.schema import schema
from models import AccessToken, AuditEntry, User
from realtime.bus import EventBus
from realtime.channels import project_channel
from tests.conftest import Api, gid
from tests.live import GraphQLSocket, serve, until_subscribed
from tests.world import World

CREATE = """
mutation Create($input: CreateAccessTokenInput!) {
  createAccessToken(input: $input) {
    token
    accessToken { id name prefix scopes expiresAt lastUsedAt revokedAt }
  }
}
"""
REVOKE = """
mutation Revoke($id: ID!) { revokeAccessToken(input: {tokenId: $id}) { accessToken { revokedAt } } }
"""
LIST = "{ accessTokens { name prefix scopes ownerId } }"
PROJECTS = "{ projects(first: 10) { edges { node { name } } } }"
CUSTOMERS = "{ customers(first: 10) { edges { node { name } } } }"
POST = """
mutation Post($id: ID!) { postMicropost(input: {projectId: $id, body: "From a script"}) {
  micropost { body } } }
"""
PAGE = "query Page($id: ID!) { page(id: $id) { title attachments { downloadUrl } } }"
NODE = "query Node($id: ID!) { node(id: $id) { id } }"
CREATE_SERVICE_ACCOUNT = """
mutation Make($input: CreateServiceAccountInput!) {
  createServiceAccount(input: $input) { serviceAccount { id name role customerId active } }
}
"""
SERVICE_TOKEN = """
mutation Token($input: CreateServiceAccountTokenInput!) {
  createServiceAccountToken(input: $input) { token accessToken { prefix } }
}
"""
DEACTIVATE = """
mutation Off($id: ID!) { deactivateServiceAccount(input: {serviceAccountId: $id}) {
  serviceAccount { active } } }
"""


def _in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def token_of(api: Api, user: User, scopes: list[str], name: str = "Script") -> str:
    made = await api(
        CREATE, {"input": {"name": name, "scopes": scopes, "expiresAt": _in(30)}}, as_user=user
    )
    assert made.errors == [], made.errors
    return str(made.data["createAccessToken"]["token"])


async def service_token(
    api: Api, world: World, scopes: list[str], *, role: str, customer: Any = None
) -> tuple[str, str]:
    """A service account's token (and the account's ID), made by the administrator."""
    account_input: dict[str, Any] = {"name": "CRM sync", "role": role}
    if customer is not None:
        account_input["customerId"] = gid(customer)
    made = await api(CREATE_SERVICE_ACCOUNT, {"input": account_input}, as_user=world.admin)
    assert made.errors == [], made.errors
    account_id = made.data["createServiceAccount"]["serviceAccount"]["id"]
    token = await api(
        SERVICE_TOKEN,
        {
            "input": {
                "serviceAccountId": account_id,
                "name": "nightly",
                "scopes": scopes,
                "expiresAt": _in(90),
            }
        },
        as_user=world.admin,
    )
    assert token.errors == [], token.errors
    return str(token.data["createServiceAccountToken"]["token"]), str(account_id)


def _error(result: Any) -> dict[str, Any]:
    assert result.errors, result.body
    return dict(result.errors[0]["extensions"])


# -- the token itself -------------------------------------------------------------------


async def test_a_token_is_shown_once_stored_as_a_hash_and_works_over_http(
    api: Api, world: World
) -> None:
    # when anna makes a token for her reporting script
    made = await api(
        CREATE,
        {"input": {"name": "Reporting", "scopes": ["projects:read"], "expiresAt": _in(30)}},
        as_user=world.anna,
    )
    # then it is shown once, prefixed and checksummed as secret scanners expect
    assert made.errors == []
    token = made.data["createAccessToken"]["token"]
    assert TOKEN_PATTERN.fullmatch(token)
    assert token.startswith("xnt_pat_")
    assert checksum_ok(token)
    listed = await api(LIST, as_user=world.anna)
    assert listed.data["accessTokens"] == [
        {
            "name": "Reporting",
            "prefix": token[:12],
            "scopes": ["projects:read"],
            "ownerId": gid(world.anna),
        }
    ]
    assert token not in str(listed.body)
    row = await AccessToken.get(user_id=world.anna.id)
    assert token not in (row.token_hash, row.prefix)
    assert len(row.token_hash) == 64
    # and it reads as anna, within her rights
    projects = await api(PROJECTS, token=token)
    assert projects.errors == []
    assert {e["node"]["name"] for e in projects.data["projects"]["edges"]} == {
        "Acme warehouse portal",
        "Acme fleet pilot",
    }


async def test_a_token_with_a_wrong_checksum_or_unknown_is_refused(api: Api, world: World) -> None:
    token = await token_of(api, world.anna, ["projects:read"])
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert not checksum_ok(flipped)
    for bad in (flipped, "xnt_pat_" + "a" * 36):
        result = await api(PROJECTS, token=bad)
        assert _error(result)["code"] == "UNAUTHENTICATED"


async def test_other_people_see_only_their_own_tokens_and_administrators_all(
    api: Api, world: World
) -> None:
    await token_of(api, world.anna, ["projects:read"], "Anna's")
    await token_of(api, world.sam, ["pages:write"], "Sam's")
    mine = await api(LIST, as_user=world.sam)
    everybody = await api(LIST, as_user=world.admin)
    assert [t["name"] for t in mine.data["accessTokens"]] == ["Sam's"]
    assert {t["name"] for t in everybody.data["accessTokens"]} == {"Anna's", "Sam's"}


@pytest.mark.parametrize(
    ("scopes", "expires_in_days", "field"),
    [
        (["projects:read"], 367, "expiresAt"),
        (["projects:read"], -1, "expiresAt"),
        (["projects:admin"], 30, "scopes"),
        ([], 30, "scopes"),
    ],
)
async def test_a_token_needs_known_scopes_and_an_expiry_within_a_year(
    api: Api, world: World, scopes: list[str], expires_in_days: int, field: str
) -> None:
    result = await api(
        CREATE,
        {"input": {"name": "x", "scopes": scopes, "expiresAt": _in(expires_in_days)}},
        as_user=world.anna,
    )
    assert _error(result) == {**_error(result), "code": "BAD_USER_INPUT", "field": field}
    assert await AccessToken.all().count() == 0


# -- scopes -----------------------------------------------------------------------------


async def test_a_query_or_mutation_outside_the_scopes_is_forbidden_naming_the_scope(
    api: Api, world: World
) -> None:
    token = await token_of(api, world.sam, ["projects:read"])
    # a mutation needs the write scope
    posted = await api(POST, {"id": gid(world.portal)}, token=token)
    assert posted.data is None or posted.data["postMicropost"] is None
    assert _error(posted) == {
        **_error(posted),
        "code": "FORBIDDEN",
        "missingScope": "projects:write",
    }
    # pages are another area, also through node(id)
    page = await api(PAGE, {"id": gid(world.portal_page)}, token=token)
    assert _error(page)["missingScope"] == "pages:read"
    node = await api(NODE, {"id": gid(world.portal_page)}, token=token)
    assert _error(node)["missingScope"] == "pages:read"
    assert (await api(NODE, {"id": gid(world.portal)}, token=token)).errors == []
    # tokens never make tokens
    again = await api(
        CREATE,
        {"input": {"name": "x", "scopes": ["projects:read"], "expiresAt": _in(1)}},
        token=token,
    )
    assert _error(again) == {**_error(again), "code": "FORBIDDEN", "reason": "SESSION_ONLY"}


async def test_the_write_scope_includes_read(api: Api, world: World) -> None:
    token = await token_of(api, world.sam, ["projects:write"])
    posted = await api(POST, {"id": gid(world.portal)}, token=token)
    assert posted.errors == []
    assert posted.data["postMicropost"]["micropost"]["body"] == "From a script"
    assert (await api(PROJECTS, token=token)).errors == []


async def test_uploads_and_downloads_follow_the_pages_scopes(
    api: Api, client: httpx.AsyncClient, world: World
) -> None:
    reader = await token_of(api, world.sam, ["pages:read"])
    writer = await token_of(api, world.sam, ["pages:write"])
    path = f"/pages/{gid(world.portal_page)}/attachments"
    # an upload needs pages:write
    refused = await client.post(
        path, params={"name": "a.txt"}, content=b"hi", headers={"Authorization": f"Bearer {reader}"}
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["missingScope"] == "pages:write"
    uploaded = await client.post(
        path, params={"name": "a.txt"}, content=b"hi", headers={"Authorization": f"Bearer {writer}"}
    )
    assert uploaded.status_code == 201
    # the download link is given to pages:read, and works while the token does
    projects_only = await token_of(api, world.sam, ["projects:read"])
    assert _error(await api(PAGE, {"id": gid(world.portal_page)}, token=projects_only))[
        "missingScope"
    ] == ("pages:read")
    page = await api(PAGE, {"id": gid(world.portal_page)}, token=reader)
    [attachment] = page.data["page"]["attachments"]
    assert (await client.get(attachment["downloadUrl"])).content == b"hi"
    reader_row = await AccessToken.get(name="Script", scopes=["pages:read"])
    await api(REVOKE, {"id": f"{gid_of_token(reader_row.id)}"}, as_user=world.sam)
    assert (await client.get(attachment["downloadUrl"])).status_code == 404


def gid_of_token(token_id: int) -> str:
    from graphql_schema.relay import global_id

    return global_id("AccessToken", token_id)


async def test_a_subscription_needs_its_scope_and_a_token_works_in_connection_init_until_revoked(
    app: Starlette, api: Api, world: World, bus: EventBus
) -> None:
    pages_only = await token_of(api, world.sam, ["pages:read"])
    timeline = await token_of(api, world.sam, ["projects:read"])
    query = "subscription($id: ID!) { projectTimeline(projectId: $id) { __typename } }"
    async with serve(app) as address:
        async with GraphQLSocket.open(address, pages_only) as sock:
            assert (await sock.receive())["type"] == "connection_ack"
            await sock.subscribe("1", query, {"id": gid(world.portal)})
            message = await sock.receive()
            errors = (
                message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            )
            assert errors[0]["extensions"]["missingScope"] == "projects:read"
        async with GraphQLSocket.open(address, timeline) as sock:
            assert (await sock.receive())["type"] == "connection_ack"
            await sock.subscribe("1", query, {"id": gid(world.portal)})
            await until_subscribed(bus, project_channel(world.portal.id))
            await api(POST, {"id": gid(world.portal)}, as_user=world.sam)
            message = await sock.receive()
            assert message["type"] == "next", message
            assert not message["payload"].get("errors"), message
            # revoking the token closes the socket it opened
            row = await AccessToken.get(user_id=world.sam.id, scopes=["projects:read"])
            await api(REVOKE, {"id": gid_of_token(row.id)}, as_user=world.sam)
            with pytest.raises(ConnectionClosed) as closed:
                await sock.receive()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4403


# -- life of a token --------------------------------------------------------------------


async def test_expired_and_revoked_tokens_and_those_of_deactivated_users_are_refused(
    api: Api, world: World
) -> None:
    expired = await token_of(api, world.sam, ["projects:read"], "old")
    revoked = await token_of(api, world.anna, ["projects:read"], "leaked")
    deactivated = await token_of(api, world.max, ["projects:read"], "gone")
    await AccessToken.filter(name="old").update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    leaked = await AccessToken.get(name="leaked")
    result = await api(REVOKE, {"id": gid_of_token(leaked.id)}, as_user=world.anna)
    assert result.data["revokeAccessToken"]["accessToken"]["revokedAt"] is not None
    await User.filter(id=world.max.id).update(is_active=False)
    for token in (expired, revoked, deactivated):
        assert _error(await api(PROJECTS, token=token))["code"] == "UNAUTHENTICATED"


async def test_nobody_revokes_another_persons_token(api: Api, world: World) -> None:
    await token_of(api, world.anna, ["projects:read"])
    row = await AccessToken.get(user_id=world.anna.id)
    refused = await api(REVOKE, {"id": gid_of_token(row.id)}, as_user=world.gina)
    missing = await api(REVOKE, {"id": gid_of_token(999999)}, as_user=world.gina)
    assert _error(refused)["code"] == "NOT_FOUND"
    assert refused.errors[0]["message"] == missing.errors[0]["message"]
    assert (await AccessToken.get(id=row.id)).revoked_at is None


async def test_last_used_is_written_at_most_every_five_minutes(api: Api, world: World) -> None:
    token = await token_of(api, world.sam, ["projects:read"])
    await api(PROJECTS, token=token)
    first = (await AccessToken.get(user_id=world.sam.id)).last_used_at
    assert first is not None
    await api(PROJECTS, token=token)
    assert (await AccessToken.get(user_id=world.sam.id)).last_used_at == first
    earlier = first - LAST_USED_EVERY
    await AccessToken.filter(user_id=world.sam.id).update(last_used_at=earlier)
    await api(PROJECTS, token=token)
    assert (await AccessToken.get(user_id=world.sam.id)).last_used_at > first  # type: ignore[operator]


async def test_creation_use_from_a_new_address_and_revocation_are_audited(
    app: Starlette, api: Api, world: World
) -> None:
    token = await token_of(api, world.anna, ["projects:read"])
    await api(PROJECTS, token=token)
    await api(PROJECTS, token=token)  # the same address again: not audited again
    elsewhere = httpx.ASGITransport(app=app, client=("198.51.100.9", 40000))
    async with httpx.AsyncClient(transport=elsewhere, base_url="http://testserver") as other:
        await other.post(
            "/graphql", json={"query": PROJECTS}, headers={"Authorization": f"Bearer {token}"}
        )
    row = await AccessToken.get(user_id=world.anna.id)
    await api(REVOKE, {"id": gid_of_token(row.id)}, as_user=world.anna)
    entries = await AuditEntry.filter(target=f"access_token:{row.id}").order_by("id")
    assert [(e.action, e.client_address) for e in entries] == [
        ("access_token.created", "203.0.113.7"),
        ("access_token.used_from_new_address", "203.0.113.7"),
        ("access_token.used_from_new_address", "198.51.100.9"),
        ("access_token.revoked", "203.0.113.7"),
    ]
    assert all(e.actor_id == world.anna.id for e in entries)


# -- service accounts -------------------------------------------------------------------


async def test_a_customer_confined_service_account_sees_only_its_customer(
    api: Api, world: World
) -> None:
    token, _ = await service_token(
        api, world, ["customers:read", "projects:read"], role="CUSTOMER_ADMIN", customer=world.acme
    )
    assert token.startswith("xnt_sat_")
    customers = await api(CUSTOMERS, token=token)
    assert [e["node"]["name"] for e in customers.data["customers"]["edges"]] == ["Acme Logistics"]
    other = await api(
        "query($id: ID!) { customer(id: $id) { name } }", {"id": gid(world.globex)}, token=token
    )
    assert other.data["customer"] is None
    assert _error(other)["code"] == "NOT_FOUND"
    loyalty = await api(NODE, {"id": gid(world.loyalty)}, token=token)
    assert loyalty.data["node"] is None


async def test_a_deactivated_service_account_stops_working(api: Api, world: World) -> None:
    token, account_id = await service_token(api, world, ["projects:read"], role="STAFF")
    assert (await api(PROJECTS, token=token)).errors == []
    off = await api(DEACTIVATE, {"id": account_id}, as_user=world.admin)
    assert off.data["deactivateServiceAccount"]["serviceAccount"]["active"] is False
    assert _error(await api(PROJECTS, token=token))["code"] == "UNAUTHENTICATED"
    entries = await AuditEntry.filter(action__startswith="service_account.")
    assert sorted(e.action for e in entries) == [
        "service_account.created",
        "service_account.deactivated",
    ]


async def test_only_administrators_manage_service_accounts(api: Api, world: World) -> None:
    result = await api(
        CREATE_SERVICE_ACCOUNT, {"input": {"name": "x", "role": "STAFF"}}, as_user=world.sam
    )
    assert _error(result)["code"] == "FORBIDDEN"
    listed = await api("{ serviceAccounts { name } }", as_user=world.anna)
    assert _error(listed)["code"] == "FORBIDDEN"


# -- the schema names a scope for every field -------------------------------------------


def test_every_root_field_names_the_scope_a_token_needs() -> None:
    graphql = schema._schema
    unnamed = [
        f"{root.name}.{name}"
        for root in (graphql.query_type, graphql.mutation_type, graphql.subscription_type)
        if root is not None
        for name in root.fields
        if name not in FIELD_SCOPES.get(root.name, {})
    ]
    assert unnamed == [], "name the scope of these fields in graphql_schema/integrations/scopes.py"
    assert '@hasScope(scope: "projects:write")' in schema.as_str()
