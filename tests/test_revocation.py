"""Access ends everywhere at once: when a contact is removed or a session ends (logout, a
reused refresh token), every channel stops serving it at once (HTTP requests, each open
websocket and each of its operations, download links, refresh tokens), in one process and
across two; a changed role counts from the next operation of an open socket."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import websockets
from starlette.applications import Starlette

from actions import accounts
from actions._common import now
from models import Invitation, RefreshToken, Role, User
from realtime import presence
from realtime.bus import EventBus
from realtime.stream import encode_cursor
from tests.conftest import Api, gid
from tests.graphql.test_dataloaders import count_queries
from tests.live import GraphQLSocket, serve, serve_process, until
from tests.services import RedisProcess
from tests.test_multiprocess import Http, shared_env  # noqa: F401 (a fixture)
from tests.world import PASSWORD, World

LOGIN = """mutation ($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken refreshToken } }"""
REFRESH = """mutation ($token: String!) {
  refreshSession(input: {refreshToken: $token}) { accessToken refreshToken } }"""
LOGOUT = "mutation ($token: String!) { logout(input: {refreshToken: $token}) { ended } }"
ME = "{ me { id handle role } }"
INVITE = """mutation ($customer: ID!, $email: String!) {
  inviteContact(input: {customerId: $customer, email: $email, role: CUSTOMER_ADMIN,
    name: "x"}) { invitationToken } }"""
REMOVE = "mutation ($user: ID!) { removeContact(input: {userId: $user}) { contact { id } } }"
TIMELINE = """subscription ($project: ID!, $after: String) {
  projectTimeline(projectId: $project, after: $after) { ... on MicropostPosted { cursor } } }"""
ATTACHMENTS = """query ($id: ID!) { page(id: $id) { attachments { downloadUrl } } }"""
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
ENDED = 4403


@dataclass
class Tokens:
    access: str
    refresh: str


async def _sign_in(api: Api, email: str, password: str = PASSWORD) -> Tokens:
    result = await api(LOGIN, {"email": email, "password": password})
    assert result.errors == [], result.errors
    return Tokens(result.data["login"]["accessToken"], result.data["login"]["refreshToken"])


async def _lead_contact(api: Api, world: World) -> tuple[User, Tokens]:
    """A second lead contact of Acme, signed in."""
    lena = await accounts.create_user(
        email="lena@acme.example",
        name="Lena Lead",
        role=Role.CUSTOMER_ADMIN,
        password=PASSWORD,
        customer=world.acme,
    )
    return lena, await _sign_in(api, lena.email)


async def _operation(
    sock: GraphQLSocket, op_id: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A query or mutation over the socket: its one result."""
    await sock.subscribe(op_id, query, variables or {})
    message = await sock.receive(within=20)
    assert message["type"] == "next", message
    assert (await sock.receive(within=20))["type"] == "complete"
    return dict(message["payload"])


async def _live(sock: GraphQLSocket, world: World) -> None:
    """Subscribe to the portal's timeline from its first event on, and see it arrive (the
    stream listens live before it replays)."""
    await sock.subscribe("t", TIMELINE, {"project": gid(world.portal), "after": encode_cursor(0)})
    message = await sock.receive(within=20)
    assert message["type"] == "next", message


async def _closed_with(sock: GraphQLSocket) -> int | None:
    """Wait for the server to close the socket: its close code."""
    try:
        while True:
            await sock.receive(within=20)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


@asynccontextmanager
async def _socket(address: str, token: str) -> AsyncIterator[GraphQLSocket]:
    async with GraphQLSocket.open(address, token) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        yield sock


def _invite(world: World, email: str) -> dict[str, Any]:
    return {"customer": gid(world.acme), "email": email}


# --- removal --------------------------------------------------------------------------


async def test_a_removed_lead_contact_can_do_nothing_more_on_an_open_socket(
    app: Starlette, api: Api, world: World
) -> None:
    lena, tokens = await _lead_contact(api, world)
    async with serve(app) as address, _socket(address, tokens.access) as sock:
        # allowed while she is a lead contact
        before = await _operation(sock, "1", INVITE, _invite(world, "first@acme.example"))
        assert before.get("errors") is None, before
        invited = await Invitation.all().count()
        # when Anna removes her
        removed = await api(REMOVE, {"user": gid(lena)}, as_user=world.anna)
        assert removed.errors == [], removed.errors
        # then her socket is closed at once, and nothing she sends runs any more
        with contextlib.suppress(websockets.ConnectionClosed):
            await sock.subscribe("2", INVITE, _invite(world, "someone@acme.example"))
        assert await _closed_with(sock) == ENDED
    assert await Invitation.all().count() == invited  # only the one made before
    over_http = await api(ME, token=tokens.access)
    assert over_http.codes == ["UNAUTHENTICATED"]


async def test_every_operation_on_a_socket_authenticates_again(
    app: Starlette, api: Api, world: World
) -> None:
    # a removal that no broadcast announces (the database alone says so)
    lena, tokens = await _lead_contact(api, world)
    invitations = await Invitation.all().count()
    async with serve(app) as address, _socket(address, tokens.access) as sock:
        await User.filter(id=lena.id).update(is_active=False)
        await sock.subscribe("1", INVITE, _invite(world, "someone@acme.example"))
        assert await _closed_with(sock) == ENDED
    assert await Invitation.all().count() == invitations


async def test_a_removed_contacts_subscriptions_end_at_once(
    app: Starlette, api: Api, world: World
) -> None:
    tokens = await _sign_in(api, world.max.email)
    async with serve(app) as address, _socket(address, tokens.access) as sock:
        await _live(sock, world)
        removed = await api(REMOVE, {"user": gid(world.max)}, as_user=world.anna)
        assert removed.errors == [], removed.errors
        assert await _closed_with(sock) == ENDED
    refreshed = await api(REFRESH, {"token": tokens.refresh})
    assert refreshed.codes == ["UNAUTHENTICATED"]


async def test_a_new_socket_of_a_removed_contact_is_refused(
    app: Starlette, api: Api, world: World
) -> None:
    tokens = await _sign_in(api, world.max.email)
    await api(REMOVE, {"user": gid(world.max)}, as_user=world.anna)
    async with serve(app) as address, GraphQLSocket.open(address, tokens.access) as sock:
        assert await _closed_with(sock) == ENDED


# --- a changed role -------------------------------------------------------------------


async def test_a_demoted_lead_contact_loses_the_role_on_the_open_socket(
    app: Starlette, api: Api, world: World
) -> None:
    tokens = await _sign_in(api, world.anna.email)
    async with serve(app) as address, _socket(address, tokens.access) as sock:
        allowed = await _operation(sock, "1", INVITE, _invite(world, "first@acme.example"))
        assert allowed.get("errors") is None, allowed
        invited = await Invitation.all().count()
        # when an administrator makes her a plain contact
        await User.filter(id=world.anna.id).update(role=Role.CUSTOMER_MEMBER)
        # then the next operation on the same socket sees the new role
        refused = await _operation(sock, "2", INVITE, _invite(world, "second@acme.example"))
        assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
        me = await _operation(sock, "3", ME)
        assert me["data"]["me"]["role"] == "CUSTOMER_MEMBER"
    assert await Invitation.all().count() == invited


# --- logout and reused refresh tokens -------------------------------------------------


async def test_logout_ends_the_sessions_access_tokens_at_once_and_no_other_session(
    api: Api, world: World
) -> None:
    first = await _sign_in(api, world.max.email)
    other = await _sign_in(api, world.max.email)
    # a token refreshed within the first session: both of its access tokens are its own
    refreshed = (await api(REFRESH, {"token": first.refresh})).data["refreshSession"]
    for token in (first.access, refreshed["accessToken"], other.access):
        assert (await api(ME, token=token)).data["me"]["handle"] == world.max.handle
    # when
    ended = await api(LOGOUT, {"token": refreshed["refreshToken"]})
    assert ended.data["logout"]["ended"] is True
    # then
    for token in (first.access, refreshed["accessToken"]):
        gone = await api(ME, token=token)
        assert gone.codes == ["UNAUTHENTICATED"]
        assert gone.data is None or gone.data["me"] is None
    assert (await api(ME, token=other.access)).data["me"]["handle"] == world.max.handle
    assert (await api(REFRESH, {"token": refreshed["refreshToken"]})).codes == ["UNAUTHENTICATED"]


async def test_a_reused_refresh_token_ends_its_session_at_once(api: Api, world: World) -> None:
    first = await _sign_in(api, world.max.email)
    rotated = (await api(REFRESH, {"token": first.refresh})).data["refreshSession"]
    assert (await api(ME, token=rotated["accessToken"])).errors == []
    # when the spent refresh token comes back (a thief, or the owner, replays it)
    replayed = await api(REFRESH, {"token": first.refresh})
    assert replayed.codes == ["UNAUTHENTICATED"]
    # then every token of that session is refused, the newest included
    for token in (first.access, rotated["accessToken"]):
        assert (await api(ME, token=token)).codes == ["UNAUTHENTICATED"]
    assert (await api(REFRESH, {"token": rotated["refreshToken"]})).codes == ["UNAUTHENTICATED"]


async def test_logout_closes_the_sessions_sockets_and_no_other(
    app: Starlette, api: Api, world: World
) -> None:
    first = await _sign_in(api, world.max.email)
    other = await _sign_in(api, world.max.email)
    async with (
        serve(app) as address,
        _socket(address, first.access) as ending,
        _socket(address, other.access) as staying,
    ):
        await _live(ending, world)
        await api(LOGOUT, {"token": first.refresh})
        assert await _closed_with(ending) == ENDED
        me = await _operation(staying, "1", ME)
        assert me["data"]["me"]["handle"] == world.max.handle


async def test_a_reused_refresh_token_closes_the_sessions_sockets(
    app: Starlette, api: Api, world: World
) -> None:
    first = await _sign_in(api, world.max.email)
    async with serve(app) as address, _socket(address, first.access) as sock:
        await api(REFRESH, {"token": first.refresh})
        assert (await _operation(sock, "1", ME))["data"]["me"] is not None  # rotation is fine
        await api(REFRESH, {"token": first.refresh})  # reuse
        assert await _closed_with(sock) == ENDED


# --- download links -------------------------------------------------------------------


async def _attach_pdf(http: httpx.AsyncClient, page_id: str, token: str) -> None:
    uploaded = await http.post(
        f"/pages/{page_id}/attachments",
        params={"name": "quote.pdf"},
        content=PDF,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert uploaded.status_code == 201, uploaded.text


async def _download_url(client: httpx.AsyncClient, api: Api, world: World, token: str) -> str:
    await _attach_pdf(client, gid(world.portal_page), api.token_for(world.sam))
    found = await api(ATTACHMENTS, {"id": gid(world.portal_page)}, token=token)
    assert found.errors == [], found.errors
    return str(found.data["page"]["attachments"][0]["downloadUrl"])


async def test_a_download_link_ends_with_its_session(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    first = await _sign_in(api, world.max.email)
    other = await _sign_in(api, world.max.email)
    link = await _download_url(client, api, world, first.access)
    other_link = await _download_url(client, api, world, other.access)
    assert (await client.get(link)).status_code == 200
    await api(LOGOUT, {"token": first.refresh})
    gone = await client.get(link)
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await client.get(other_link)).status_code == 200


async def test_a_download_link_ends_with_its_users_removal(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    tokens = await _sign_in(api, world.max.email)
    link = await _download_url(client, api, world, tokens.access)
    assert (await client.get(link)).status_code == 200
    await api(REMOVE, {"user": gid(world.max)}, as_user=world.anna)
    assert (await client.get(link)).status_code == 404


# --- cost -----------------------------------------------------------------------------


async def test_the_session_check_costs_no_query_of_its_own(api: Api, world: World) -> None:
    tokens = await _sign_in(api, world.max.email)
    with count_queries() as counter:
        result = await api(ME, token=tokens.access)
    assert result.data["me"]["handle"] == world.max.handle
    # the user's lookup is the request's only query, the session's check folded into it
    assert len(counter.statements) == 1, counter.statements
    assert "refresh_tokens" in counter.statements[0]


async def test_a_socket_told_of_ended_sessions_closes_only_when_its_own_ended(
    app: Starlette, bus: EventBus, world: World, api: Api
) -> None:
    # the check a socket makes when told: a live session stays, an ended one goes
    tokens = await _sign_in(api, world.max.email)
    family = (await RefreshToken.get(user_id=world.max.id)).family
    async with serve(app) as address, _socket(address, tokens.access) as sock:
        await bus.sessions_ended(world.max.id)  # nothing ended: the socket stays
        assert (await _operation(sock, "1", ME))["data"]["me"] is not None
        await RefreshToken.filter(family=family).update(revoked_at=now())
        await bus.sessions_ended(world.max.id)
        assert await _closed_with(sock) == ENDED


# --- two server processes -------------------------------------------------------------


async def _http_errors(address: str, bearer: str, query: str, **variables: str) -> list[str]:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"http://{address}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {bearer}"} if bearer else {},
        )
    return [e["extensions"]["code"] for e in response.json().get("errors") or []]


DEMO_PAGES = """{ projects(first: 5) { edges { node { name
  pages(first: 1) { edges { node { id attachments { downloadUrl } } } } } } } }"""


async def _demo_portal_page(http: Http) -> dict[str, Any]:
    edges = (await http(DEMO_PAGES))["projects"]["edges"]
    [portal] = [e["node"] for e in edges if e["node"]["name"] == "Warehouse portal relaunch"]
    return dict(portal["pages"]["edges"][0]["node"])


async def _demo_download_url(address: str, reader: Http) -> str:
    """A download link for ``reader``: staff attach a file to the portal's first page."""
    staff = Http(address)
    await staff.login("sam@provider.example")
    page = await _demo_portal_page(staff)
    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=10) as http:
        await _attach_pdf(http, page["id"], staff.token)
    return str((await _demo_portal_page(reader))["attachments"][0]["downloadUrl"])


async def _status(address: str, link: str) -> int:
    async with httpx.AsyncClient(timeout=10) as http:
        return (await http.get(f"http://{address}{link}")).status_code


async def test_a_removal_in_one_process_ends_access_in_the_other(
    shared_env: dict[str, str],  # noqa: F811 (the fixture)
    own_redis: RedisProcess,
) -> None:
    async with serve_process(shared_env) as first, serve_process(shared_env) as second:
        lead, contact = Http(first), Http(second)
        await lead.login("anna@acme.example")
        token = await contact.login("max@acme.example")
        max_id = (await contact(ME))["me"]["id"]
        async with _socket(second, token) as sock:
            assert (await _operation(sock, "1", ME))["data"]["me"]["id"] == max_id
            await lead(REMOVE, user=max_id)
            assert await _closed_with(sock) == ENDED
        assert await _http_errors(second, token, ME) == ["UNAUTHENTICATED"]


async def test_a_logout_in_one_process_ends_the_session_in_the_other(
    shared_env: dict[str, str],  # noqa: F811 (the fixture)
    own_redis: RedisProcess,
) -> None:
    async with serve_process(shared_env) as first, serve_process(shared_env) as second:
        ending, staying = Http(first), Http(second)
        signed_in = await ending(LOGIN, email="max@acme.example", password="demo-extranet-2026")
        session = signed_in["login"]
        ending.token = session["accessToken"]
        await staying.login("max@acme.example")
        link = await _demo_download_url(first, ending)
        assert await _status(second, link) == 200
        async with (
            _socket(second, ending.token) as ending_sock,
            _socket(second, staying.token) as staying_sock,
        ):
            await ending(LOGOUT, token=session["refreshToken"])
            assert await _closed_with(ending_sock) == ENDED
            assert (await _operation(staying_sock, "1", ME))["data"]["me"] is not None
        assert await _http_errors(second, ending.token, ME) == ["UNAUTHENTICATED"]
        assert await _http_errors(second, staying.token, ME) == []
        assert await _status(second, link) == 404
        refreshed = await _http_errors(second, "", REFRESH, token=session["refreshToken"])
        assert refreshed == ["UNAUTHENTICATED"]


async def test_a_removal_while_redis_is_away_closes_the_socket_once_it_is_back(
    shared_env: dict[str, str],  # noqa: F811 (the fixture)
    own_redis: RedisProcess,
) -> None:
    async with serve_process(shared_env) as first, serve_process(shared_env) as second:
        lead, contact = Http(first), Http(second)
        await lead.login("anna@acme.example")
        token = await contact.login("max@acme.example")
        max_id = (await contact(ME))["me"]["id"]
        async with _socket(second, token) as sock:
            own_redis.stop()  # the end of max's sessions cannot be announced now
            await lead(REMOVE, user=max_id)
            assert await _http_errors(second, token, ME) == ["UNAUTHENTICATED"]
            own_redis.start()
            # the broadcast reconnects, every channel looks again, and the socket closes
            assert await _closed_with(sock) == ENDED


# --- membership -----------------------------------------------------------------------

PRESENCE = """subscription ($page: ID!) {
  pagePresence(pageId: $page) { people { user { handle } } } }"""
REMOVE_MEMBER = """mutation ($project: ID!, $user: ID!) {
  removeProjectMember(input: {projectId: $project, userId: $user}) { user { handle } } }"""


async def test_a_member_removed_from_a_project_leaves_its_pages_presence_at_once(
    app: Starlette, api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(presence, "HEARTBEAT", 3600.0)  # no periodic look ends it
    page = {"page": gid(world.portal_page)}
    async with (
        serve(app) as address,
        _socket(address, api.token_for(world.max)) as max_,
        _socket(address, api.token_for(world.anna)) as anna,
    ):
        await max_.subscribe("p", PRESENCE, page)
        assert (await max_.receive(within=20))["type"] == "next"
        await anna.subscribe("p", PRESENCE, page)
        while len((await anna.receive(within=20))["payload"]["data"]["pagePresence"]["people"]) < 2:
            pass
        # when the account team takes max off the project
        variables = {"project": gid(world.portal), "user": gid(world.max)}
        removed = await api(REMOVE_MEMBER, variables, as_user=world.sam)
        assert removed.errors == [], removed.errors
        # then max's view of the page ends FORBIDDEN, before any renewal of his presence
        while "errors" not in (message := await max_.receive(within=20))["payload"]:
            assert message["type"] == "next", message
        assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == ["FORBIDDEN"]
        assert (await max_.receive(within=20))["type"] == "complete"
        # and the others see him leave
        while [
            p["user"]["handle"]
            for p in (await anna.receive(within=20))["payload"]["data"]["pagePresence"]["people"]
        ] != ["anna"]:
            pass


async def test_a_users_sockets_share_one_session_watch_and_an_ended_session_closes_all_its_own(
    app: Starlette, api: Api, world: World
) -> None:
    watches = app.state.graphql.session_watches
    first = await _sign_in(api, world.max.email)
    other = await _sign_in(api, world.max.email)
    async with serve(app) as address:
        async with (
            _socket(address, first.access) as one,
            _socket(address, first.access) as two,
            _socket(address, other.access) as staying,
        ):
            assert len(watches) == 1  # one listener for the user's three sockets
            await api(LOGOUT, {"token": first.refresh})
            assert await _closed_with(one) == ENDED
            assert await _closed_with(two) == ENDED
            me = await _operation(staying, "1", ME)
            assert me["data"]["me"]["handle"] == world.max.handle
            assert len(watches) == 1  # the other session's socket is still watched
        await until(lambda: len(watches) == 0, what="no watch once the sockets closed")
