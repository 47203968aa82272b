"""Suspicious activity: each rule triggered through the API from real client addresses, the
alert seen and handled by an administrator and by the lead contact of the contact concerned,
and refused to everyone else."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from actions import access_tokens
from actions._common import now
from domain.tokens import DownloadKind, issue_download_token
from graphql_schema.relay import global_id, node_pk
from models import AuditEntry, OutgoingMail, SecurityAlert, SecurityRule, User
from tests.conftest import TEST_SESSION, Api, gid
from tests.graphql.test_business_documents import PDF
from tests.world import PASSWORD, World

ALERTS = """query ($state: SecurityAlertState) {
  securityAlerts(state: $state) { totalCount edges { node {
    id rule state address count details user { name } acknowledgedBy { name } resolvedBy { name }
    resolutionNote } } } }"""
ACKNOWLEDGE = """mutation ($id: ID!) { acknowledgeSecurityAlert(input: {alertId: $id}) {
  securityAlert { state acknowledgedBy { name } } } }"""
RESOLVE = """mutation ($id: ID!, $note: String!) {
  resolveSecurityAlert(input: {alertId: $id, note: $note}) {
    securityAlert { state resolvedBy { name } resolutionNote } } }"""
LOGIN = """mutation ($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken } }"""
PROJECT = "query ($id: ID!) { project(id: $id) { name } }"

From = Callable[[str], Api]


@pytest.fixture
def strict(app: Starlette) -> Iterator[None]:
    """Thresholds of three events, for the server, its GraphQL endpoint and its job runner."""
    before = app.state.settings
    settings = replace(before, security_failed_sign_ins=3, security_probes=3, security_downloads=3)
    holders = (app.state, app.state.graphql, app.state.jobs)
    for holder in holders:
        holder.settings = settings
    yield
    for holder in holders:
        holder.settings = before


@pytest.fixture
async def from_address(app: Starlette, api: Api) -> AsyncIterator[From]:
    """Clients of the server that connect from the address given."""
    async with AsyncExitStack() as stack:

        def client_at(address: str) -> Api:
            transport = httpx.ASGITransport(app=app, client=(address, 50000))
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            stack.push_async_callback(client.aclose)
            return Api(client=client, settings=api.settings)

        yield client_at


async def _alerts(app: Starlette, api: Api, viewer: User, state: str | None = None) -> Any:
    await app.state.graphql.process.denials.settled()
    await app.state.jobs.run_due()
    result = await api(ALERTS, {"state": state}, as_user=viewer)
    assert result.errors == [], result.body
    return [edge["node"] for edge in result.data["securityAlerts"]["edges"]]


async def _sign_in(api: Api, email: str, password: str = PASSWORD) -> list[str]:
    return (await api(LOGIN, {"email": email, "password": password})).codes


async def test_a_sign_in_from_a_new_network_without_two_factor_alerts_admins_and_lead_contact(
    app: Starlette, api: Api, world: World, from_address: From
) -> None:
    # given max signed in from his office network, twice from two of its addresses
    assert await _sign_in(from_address("198.51.100.10"), "max@acme.example") == []
    assert await _sign_in(from_address("198.51.100.20"), "max@acme.example") == []
    assert await _alerts(app, api, world.admin) == []
    # when he signs in from another network
    assert await _sign_in(from_address("192.0.2.99"), "max@acme.example") == []
    # then the administrators and Acme's lead contact see an alert about him
    [alert] = await _alerts(app, api, world.admin)
    assert alert["rule"] == "NEW_NETWORK_SIGN_IN"
    assert alert["state"] == "OPEN"
    assert alert["address"] == "192.0.2.99"
    assert alert["details"]["network"] == "192.0.2.0/24"
    assert alert["user"]["name"] == world.max.name
    assert [a["id"] for a in await _alerts(app, api, world.anna)] == [alert["id"]]
    # and are mailed, once each; Globex's lead contact sees nothing of it
    mailed = await OutgoingMail.filter(subject__startswith="Security alert")
    assert sorted(m.to_address for m in mailed) == ["admin@provider.example", "anna@acme.example"]
    assert await _alerts(app, api, world.gina) == []
    # and it is in the audit trail
    assert await AuditEntry.filter(action="security.alert").count() == 1
    # when he signs in from the office again, nothing new is raised
    assert await _sign_in(from_address("198.51.100.30"), "max@acme.example") == []
    assert len(await _alerts(app, api, world.admin)) == 1


async def test_failed_sign_ins_from_one_address_coalesce_until_resolved(
    app: Starlette, api: Api, world: World, from_address: From, strict: None
) -> None:
    # given three failed sign-ins from one address, for three accounts
    attacker = from_address("203.0.113.66")
    for email in ("anna@acme.example", "gina@globex.example", "nobody@acme.example"):
        assert await _sign_in(attacker, email, "wrong") == ["UNAUTHENTICATED"]
    # then one alert names the address, about no account: only administrators see it
    [alert] = await _alerts(app, api, world.admin)
    assert (alert["rule"], alert["address"], alert["user"], alert["count"]) == (
        "FAILED_SIGN_INS", "203.0.113.66", None, 1,
    )  # fmt: skip
    assert await _alerts(app, api, world.anna) == []
    # when three more fail, they count on the same alert
    for email in ("max@acme.example", "mia@acme.example", "gus@globex.example"):
        await _sign_in(attacker, email, "wrong")
    [alert] = await _alerts(app, api, world.admin)
    assert alert["count"] == 2
    # when an administrator resolves it
    resolved = await api(
        RESOLVE, {"id": alert["id"], "note": "A scanner; blocked."}, as_user=world.admin
    )
    assert resolved.data["resolveSecurityAlert"]["securityAlert"] == {
        "state": "RESOLVED", "resolvedBy": {"name": world.admin.name},
        "resolutionNote": "A scanner; blocked.",
    }  # fmt: skip
    # then it cannot be acknowledged any more, and the next failures open a new alert
    again = await api(ACKNOWLEDGE, {"id": alert["id"]}, as_user=world.admin)
    assert again.codes == ["CONFLICT"]
    for email in ("a@acme.example", "b@acme.example", "c@acme.example"):
        await _sign_in(attacker, email, "wrong")
    assert [a["state"] for a in await _alerts(app, api, world.admin)] == ["OPEN", "RESOLVED"]


async def test_a_probing_contact_triggers_an_alert_that_an_administrator_sees(
    app: Starlette, api: Api, world: World, strict: None
) -> None:
    # given Globex's contact asks for IDs of Acme's objects and of none at all
    for missing in range(900001, 900004):
        assert (
            await api(PROJECT, {"id": global_id("Project", missing)}, as_user=world.gus)
        ).codes == ["NOT_FOUND"]
    assert await _alerts(app, api, world.admin) == []
    acme_ids = [gid(world.portal), gid(world.acme_request), gid(world.portal_page)]
    for acme_id in acme_ids:
        result = await api(
            "query ($id: ID!) { node(id: $id) { id } }", {"id": acme_id}, as_user=world.gus
        )
        assert result.data == {"node": None}
    # then an administrator sees an alert about him, which names none of Acme's objects
    [alert] = await _alerts(app, api, world.admin)
    assert (alert["rule"], alert["user"]["name"]) == ("CROSS_TENANT_PROBING", world.gus.name)
    assert alert["details"]["count"] == 3
    # and Globex's lead contact sees it too (he is her contact), Acme's does not
    [seen_by_gina] = await _alerts(app, api, world.gina)
    assert seen_by_gina["details"] == {"count": 3, "windowSeconds": 600}
    assert not any(acme_id in str(seen_by_gina) for acme_id in acme_ids)
    assert await _alerts(app, api, world.anna) == []
    # when the administrator acknowledges it
    acknowledged = await api(ACKNOWLEDGE, {"id": alert["id"]}, as_user=world.admin)
    # then it is ACKNOWLEDGED, by them
    assert acknowledged.data["acknowledgeSecurityAlert"]["securityAlert"] == {
        "state": "ACKNOWLEDGED", "acknowledgedBy": {"name": world.admin.name},
    }  # fmt: skip
    assert [a["id"] for a in await _alerts(app, api, world.admin, "ACKNOWLEDGED")] == [alert["id"]]
    assert await _alerts(app, api, world.admin, "OPEN") == []


async def test_an_access_token_used_from_a_new_address_and_a_burst_of_downloads(
    app: Starlette, api: Api, world: World, from_address: From, strict: None
) -> None:
    # given Anna's token used from her server, then from another address
    made = await access_tokens.create_access_token(
        world.anna, name="Report", scopes=["projects:read"], expires_at=now() + timedelta(days=1)
    )
    query = "{ projects { totalCount } }"
    assert (await from_address("198.51.100.5")(query, token=made.token)).errors == []
    assert await _alerts(app, api, world.admin) == []
    assert (await from_address("192.0.2.200")(query, token=made.token)).errors == []
    # given Max downloads one file four times
    bearer = {"Authorization": f"Bearer {api.token_for(world.max)}"}
    uploaded = await api.client.post(
        "/requests/attachments?name=r.pdf", content=PDF, headers=bearer
    )
    file_id = node_pk(uploaded.json()["data"]["attachment"]["id"], "RequestAttachment")
    link = issue_download_token(
        api.settings, world.max.id, TEST_SESSION, file_id, kind=DownloadKind.REQUEST_FILE
    )
    for _ in range(4):
        response = await api.client.get(
            f"/request-attachments/{global_id('RequestAttachment', file_id)}",
            params={"token": link},
        )
        assert response.status_code == 200, response.text
    # then Acme's lead contact sees both alerts, about her token and about Max
    alerts = {a["rule"]: a for a in await _alerts(app, api, world.anna)}
    assert alerts.keys() == {"TOKEN_NEW_ADDRESS", "DOWNLOAD_BURST"}
    assert alerts["TOKEN_NEW_ADDRESS"]["address"] == "192.0.2.200"
    assert alerts["TOKEN_NEW_ADDRESS"]["user"]["name"] == world.anna.name
    assert alerts["DOWNLOAD_BURST"]["user"]["name"] == world.max.name
    assert alerts["DOWNLOAD_BURST"]["count"] == 1
    # and she may acknowledge and resolve them
    burst = alerts["DOWNLOAD_BURST"]["id"]
    assert (await api(ACKNOWLEDGE, {"id": burst}, as_user=world.anna)).errors == []
    done = await api(RESOLVE, {"id": burst, "note": "Max's quarterly export."}, as_user=world.anna)
    assert done.data["resolveSecurityAlert"]["securityAlert"]["state"] == "RESOLVED"


async def test_only_administrators_and_the_lead_contact_concerned_may_see_or_handle_alerts(
    app: Starlette, api: Api, world: World
) -> None:
    # given an alert about Acme's contact
    row = await SecurityAlert.create(
        rule=SecurityRule.DOWNLOAD_BURST,
        subject_key=f"user:{world.max.id}",
        user_id=world.max.id,
        customer_id=world.acme.id,
        first_seen_at=now(),
        last_seen_at=now(),
    )
    alert_id = global_id("SecurityAlert", row.id)
    # then a member and staff who are not administrators are refused the list and the mutations
    for viewer in (world.max, world.sam):
        listed = await api(ALERTS, as_user=viewer)
        assert (listed.data, listed.codes) == ({"securityAlerts": None}, ["FORBIDDEN"])
        assert (await api(ACKNOWLEDGE, {"id": alert_id}, as_user=viewer)).codes == ["FORBIDDEN"]
    # and another customer's lead contact is told it does not exist, like a missing one
    for some_id in (alert_id, global_id("SecurityAlert", 999999)):
        refused = await api(RESOLVE, {"id": some_id, "note": ""}, as_user=world.gina)
        assert refused.codes == ["NOT_FOUND"]
    assert await _alerts(app, api, world.gina) == []
    # and a note too long is refused with its field named
    long_note = await api(RESOLVE, {"id": alert_id, "note": "x" * 2001}, as_user=world.anna)
    assert long_note.codes == ["BAD_USER_INPUT"]
    assert (await SecurityAlert.get(id=row.id)).state == "OPEN"
