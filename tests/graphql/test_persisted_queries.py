"""Persisted queries: Apollo's APQ over HTTP and websockets, and a server that runs only
registered documents (clients/operations and those an administrator registered)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from extranet_client.operations import operation_document
from graphql import parse, print_ast
from starlette.applications import Starlette

from actions import microposts
from app.persisted import OPERATIONS_DIR, MemoryDocuments, PersistedQueries, operation_documents
from graphql_schema.persisted.documents import with_typename
from graphql_schema.schema import schema
from models import AuditEntry, PersistedDocument
from realtime.bus import EventBus
from realtime.channels import project_channel
from tests.conftest import Api, Result, gid
from tests.live import GraphQLSocket, serve, until_subscribed
from tests.world import World

REGISTER = (OPERATIONS_DIR / "RegisterPersistedQuery.graphql").read_text()
MY_PROJECTS = (OPERATIONS_DIR / "MyProjects.graphql").read_text()
PROJECT_TIMELINE = (OPERATIONS_DIR / "ProjectTimeline.graphql").read_text()
TIMELINE = """subscription ($project: ID!) {
  projectTimeline(projectId: $project) { __typename } }"""


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def fresh_document() -> str:
    """A document no client sent before (its hash is new)."""
    return f"query Me{secrets.token_hex(4)} {{ me {{ name }} }}"


def persisted(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def send(api: Api, world: World, body: dict[str, Any], as_user: str = "anna") -> Result:
    token = api.token_for(world.users()[as_user])
    response = await api.client.post(
        "/graphql", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    return Result(status=response.status_code, body=response.json())


@pytest.fixture
def registered_only(app: Starlette) -> Iterator[None]:
    """The server as EXTRANET_PERSISTED_QUERIES=registered makes it."""
    view = app.state.graphql
    automatic = view.persisted
    view.persisted = PersistedQueries(
        "registered",
        MemoryDocuments(10),
        schema._schema,
        app.state.settings.query_limits,
        operation_documents(OPERATIONS_DIR),
    )
    try:
        yield
    finally:
        view.persisted = automatic


# --- automatic persisted queries ------------------------------------------------------


async def test_a_hash_the_server_does_not_know_answers_persisted_query_not_found(
    api: Api, world: World
) -> None:
    # given
    document = fresh_document()
    # when
    result = await send(api, world, {"extensions": persisted(sha256(document))})
    # then
    assert result.status == 200
    assert result.errors == [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
    assert result.data is None


async def test_the_text_with_its_hash_runs_and_then_the_hash_alone_runs(
    api: Api, world: World
) -> None:
    # given
    document = fresh_document()
    extensions = persisted(sha256(document))
    # when
    with_text = await send(api, world, {"query": document, "extensions": extensions})
    hash_only = await send(api, world, {"extensions": extensions})
    # then
    assert with_text.errors == []
    assert with_text.data == {"me": {"name": world.anna.name}}
    assert hash_only.errors == []
    assert hash_only.data == {"me": {"name": world.anna.name}}


async def test_a_hash_that_is_not_the_texts_is_refused_and_nothing_is_kept(
    api: Api, world: World
) -> None:
    # given
    document, other = fresh_document(), fresh_document()
    # when
    wrong = await send(api, world, {"query": document, "extensions": persisted(sha256(other))})
    later = await send(api, world, {"extensions": persisted(sha256(other))})
    # then
    assert wrong.codes == ["BAD_USER_INPUT"]
    assert "sha256Hash" in wrong.errors[0]["message"]
    assert wrong.data is None
    assert later.codes == ["PERSISTED_QUERY_NOT_FOUND"]


@pytest.mark.parametrize(
    "extension",
    [
        {"version": 2, "sha256Hash": "0" * 64},
        {"version": 1, "sha256Hash": "not-a-hash"},
        {"version": 1},
        "a string",
    ],
    ids=["version", "malformed", "missing", "not-an-object"],
)
async def test_a_malformed_persisted_query_extension_is_bad_user_input(
    api: Api, world: World, extension: Any
) -> None:
    # when
    result = await send(
        api, world, {"query": "{ me { name } }", "extensions": {"persistedQuery": extension}}
    )
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.data is None


async def test_an_invalid_document_runs_into_its_errors_and_is_not_kept(
    api: Api, world: World
) -> None:
    # given
    document = f"{{ me {{ nameThatDoesNotExist{secrets.token_hex(4)} }} }}"
    extensions = persisted(sha256(document))
    # when
    first = await send(api, world, {"query": document, "extensions": extensions})
    again = await send(api, world, {"extensions": extensions})
    # then
    assert first.codes == ["BAD_USER_INPUT"]
    assert again.codes == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_the_clients_operations_run_by_their_hash_alone(api: Api, world: World) -> None:
    # when
    result = await send(
        api, world, {"extensions": persisted(sha256(MY_PROJECTS)), "variables": {"first": 5}}
    )
    # then
    assert result.errors == []
    assert result.data["me"]["name"] == world.anna.name


@pytest.mark.parametrize("hash_only", [{}, {"query": ""}], ids=["without-query", "empty-query"])
async def test_a_subscription_goes_by_hash_over_the_websocket(
    app: Starlette, api: Api, world: World, bus: EventBus, hash_only: dict[str, str]
) -> None:
    # given (graphql-ws clients must send a query: they send "" with the hash)
    document = TIMELINE + f" # {secrets.token_hex(4)}"
    payload: dict[str, Any] = {
        **hash_only,
        "variables": {"project": gid(world.portal)},
        "extensions": persisted(sha256(document)),
    }
    async with serve(app) as address, GraphQLSocket.open(address, api.token_for(world.anna)) as ws:
        assert (await ws.receive())["type"] == "connection_ack"
        # when
        await ws.send({"id": "1", "type": "subscribe", "payload": payload})
        unknown = await ws.receive()
        await ws.send({"id": "2", "type": "subscribe", "payload": {**payload, "query": document}})
        await ws.send({"id": "3", "type": "subscribe", "payload": payload})
        await ws.send({"id": "4", "type": "subscribe", "payload": {**payload, "query": "{"}})
        refused = await ws.receive()
        await until_subscribed(bus, project_channel(world.portal.id), 2)
        await microposts.post_micropost(world.max, bus, project_id=world.portal.id, body="hi")
        delivered = [await ws.receive(), await ws.receive()]
    # then
    assert unknown["type"] == "error"
    assert unknown["id"] == "1"
    assert unknown["payload"][0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND"}
    assert refused["id"] == "4"
    assert refused["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert sorted(m["id"] for m in delivered) == ["2", "3"]
    for message in delivered:
        assert message["payload"]["data"] == {"projectTimeline": {"__typename": "MicropostPosted"}}


@pytest.mark.usefixtures("registered_only")
async def test_registered_mode_refuses_an_ad_hoc_subscription(
    app: Starlette, api: Api, world: World
) -> None:
    # given
    payload = {"query": TIMELINE, "variables": {"project": gid(world.portal)}}
    async with serve(app) as address, GraphQLSocket.open(address, api.token_for(world.anna)) as ws:
        assert (await ws.receive())["type"] == "connection_ack"
        # when
        await ws.send({"id": "1", "type": "subscribe", "payload": payload})
        refused = await ws.receive()
    # then
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["reason"] == "PERSISTED_QUERY_NOT_REGISTERED"


# --- registered documents only ----------------------------------------------------------


@pytest.mark.usefixtures("registered_only")
async def test_registered_mode_refuses_a_document_nobody_registered(api: Api, world: World) -> None:
    # given
    document = fresh_document()
    # when
    text = await send(api, world, {"query": document})
    with_hash = await send(
        api, world, {"query": document, "extensions": persisted(sha256(document))}
    )
    hash_only = await send(api, world, {"extensions": persisted(sha256(document))})
    # then
    for result in (text, with_hash):
        assert result.data is None
        [error] = result.errors
        assert error["extensions"] == {
            "code": "FORBIDDEN",
            "reason": "PERSISTED_QUERY_NOT_REGISTERED",
        }
        assert "registered" in error["message"]
    # an unknown hash asks for the text (which is then refused, as above)
    assert hash_only.data is None
    assert hash_only.codes == ["PERSISTED_QUERY_NOT_FOUND"]


@pytest.mark.usefixtures("registered_only")
async def test_registered_mode_runs_the_clients_operations_by_hash_and_by_text(
    api: Api, world: World
) -> None:
    # given the text of clients/operations/MyProjects.graphql, and as gql prints it
    as_printed = print_ast(parse(MY_PROJECTS))
    variables = {"first": 5}
    # when
    by_hash = await send(
        api, world, {"extensions": persisted(sha256(MY_PROJECTS)), "variables": variables}
    )
    by_text = await send(api, world, {"query": MY_PROJECTS, "variables": variables})
    printed = await send(api, world, {"query": as_printed, "variables": variables})
    # then
    for result in (by_hash, by_text, printed):
        assert result.errors == []
        assert result.data["me"]["name"] == world.anna.name


@pytest.mark.usefixtures("registered_only")
async def test_registered_mode_runs_what_an_administrator_registered(
    api: Api, world: World
) -> None:
    # given
    document = fresh_document()
    relaid = document.replace(" { ", "\n{\n  ", 1)  # the same document, laid out otherwise
    refused = await send(api, world, {"query": document})
    registered = await send(
        api, world, {"query": REGISTER, "variables": {"query": document}}, "admin"
    )
    # when
    by_hash = await send(api, world, {"extensions": persisted(sha256(document))})
    by_text = await send(api, world, {"query": document})
    other_layout = await send(api, world, {"query": relaid})
    # then
    assert refused.codes == ["FORBIDDEN"]
    assert registered.errors == []
    for result in (by_hash, by_text, other_layout):
        assert result.errors == []
        assert result.data == {"me": {"name": world.anna.name}}


# --- registering documents --------------------------------------------------------------


async def test_an_administrator_registers_a_document_once_and_it_is_audited(
    api: Api, world: World
) -> None:
    # given
    document = "query WhoAmI { me { name } }"
    # when
    first = await send(api, world, {"query": REGISTER, "variables": {"query": document}}, "admin")
    again = await send(api, world, {"query": REGISTER, "variables": {"query": document}}, "admin")
    # then
    assert first.errors == []
    payload = first.data["registerPersistedQuery"]
    assert payload["created"] is True
    assert {k: v for k, v in payload["persistedQuery"].items() if k != "registeredAt"} == {
        "sha256Hash": sha256(document),
        "operationName": "WhoAmI",
        "query": document,
    }
    assert again.data["registerPersistedQuery"]["created"] is False
    assert await PersistedDocument.filter(sha256=sha256(document)).count() == 1
    [entry] = await AuditEntry.filter(action="persisted_query.registered")
    assert entry.actor_id == world.admin.id
    assert entry.target == f"persisted_query:{sha256(document)}"
    assert entry.details == {"operation": "WhoAmI"}


@pytest.mark.parametrize(
    ("document", "why"),
    [
        ("{ me { nameThatDoesNotExist } }", "Cannot query field"),
        ("{ me { name }", "Syntax Error"),
        ("query A { me { name } } query B { me { id } }", "one operation"),
    ],
    ids=["invalid", "unparsable", "two-operations"],
)
async def test_a_document_that_cannot_run_is_not_registered(
    api: Api, world: World, document: str, why: str
) -> None:
    # when
    result = await send(api, world, {"query": REGISTER, "variables": {"query": document}}, "admin")
    # then
    assert result.codes == ["BAD_USER_INPUT"]
    assert why in result.errors[0]["message"]
    assert await PersistedDocument.all().count() == 0


@pytest.mark.parametrize("role", ["sam", "anna", "gina"])
async def test_only_administrators_register_documents(api: Api, world: World, role: str) -> None:
    # when
    result = await send(
        api, world, {"query": REGISTER, "variables": {"query": "{ me { name } }"}}, role
    )
    # then
    assert result.codes == ["FORBIDDEN"]
    assert result.data == {"registerPersistedQuery": None}
    assert await PersistedDocument.all().count() == 0


async def test_a_query_that_is_not_text_is_refused_on_the_websocket(
    api: Api, world: World, app: Starlette
) -> None:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": "a" * 64}}
    async with serve(app) as address, GraphQLSocket.open(address, api.token_for(world.anna)) as ws:
        assert (await ws.receive())["type"] == "connection_ack"
        await ws.send(
            {"id": "1", "type": "subscribe", "payload": {"query": 5, "extensions": extensions}}
        )
        refused = await ws.receive()
        assert refused["type"] == "error"
        assert [e["extensions"]["code"] for e in refused["payload"]] == ["BAD_USER_INPUT"]
        # and the connection goes on
        await ws.send({"type": "ping"})
        assert (await ws.receive())["type"] == "pong"


# --- hash-only with an empty query; documents a cache augmented with __typename -----------


async def test_an_empty_query_with_a_hash_is_hash_only_over_http(api: Api, world: World) -> None:
    # given a document the server knows by its hash
    document = fresh_document()
    extensions = persisted(sha256(document))
    assert (await send(api, world, {"query": document, "extensions": extensions})).errors == []
    # when a client sends the hash with an empty query (as graphql-ws clients must)
    result = await send(api, world, {"query": "", "extensions": extensions})
    unknown = await send(api, world, {"query": "", "extensions": persisted(sha256("x"))})
    # then the known one runs, and an unknown one asks for the text
    assert result.errors == []
    assert result.data == {"me": {"name": world.anna.name}}
    assert unknown.codes == ["PERSISTED_QUERY_NOT_FOUND"]


def _as_a_cache_sends_it(text: str) -> str:
    """The document with `__typename` in every selection set but the operation's own, as
    Apollo Client's InMemoryCache and urql's cache send it (graphql-js prints alike)."""
    return with_typename(parse(text))


@pytest.mark.usefixtures("registered_only")
async def test_registered_mode_runs_a_clients_operation_a_cache_augmented(
    api: Api, world: World
) -> None:
    # given clients/operations/ProjectTimeline.graphql as Apollo Client and urql send it
    augmented = _as_a_cache_sends_it(PROJECT_TIMELINE)
    variables = {"id": gid(world.portal)}
    # when by text, by text and hash, by hash alone (with an empty query too)
    by_text = await send(api, world, {"query": augmented, "variables": variables})
    apq = persisted(sha256(augmented))
    with_hash = await send(
        api, world, {"query": augmented, "variables": variables, "extensions": apq}
    )
    by_hash = await send(api, world, {"variables": variables, "extensions": apq})
    empty = await send(api, world, {"query": "", "variables": variables, "extensions": apq})
    # then each runs, with the __typename the cache asked for
    for result in (by_text, with_hash, by_hash, empty):
        assert result.errors == []
        project = result.data["project"]
        assert project["__typename"] == "Project"
        assert project["name"] == world.portal.name
        assert project["timeline"]["pageInfo"]["__typename"] == "PageInfo"


@pytest.mark.usefixtures("registered_only")
async def test_registered_mode_runs_an_augmented_subscription_with_its_fragment(
    app: Starlette, api: Api, world: World, bus: EventBus
) -> None:
    # given clients/operations/ProjectEvents.graphql (with its fragment), augmented
    augmented = _as_a_cache_sends_it(operation_document(OPERATIONS_DIR / "ProjectEvents.graphql"))
    payload = {
        "query": augmented,
        "variables": {"projectId": gid(world.portal)},
        "extensions": persisted(sha256(augmented)),
    }
    async with serve(app) as address, GraphQLSocket.open(address, api.token_for(world.anna)) as ws:
        assert (await ws.receive())["type"] == "connection_ack"
        await ws.send({"id": "1", "type": "subscribe", "payload": payload})
        await ws.send({"id": "2", "type": "subscribe", "payload": {**payload, "query": ""}})
        await until_subscribed(bus, project_channel(world.portal.id), 2)
        # when
        await microposts.post_micropost(world.max, bus, project_id=world.portal.id, body="hi")
        delivered = [await ws.receive(), await ws.receive()]
    # then
    assert sorted(m["id"] for m in delivered) == ["1", "2"]
    for message in delivered:
        event = message["payload"]["data"]["projectTimeline"]
        assert event["__typename"] == "MicropostPosted"
        assert event["micropost"]["__typename"] == "Micropost"
        assert event["micropost"]["body"] == "hi"


@pytest.mark.usefixtures("registered_only")
async def test_registered_mode_runs_what_an_administrator_registered_augmented(
    api: Api, world: World
) -> None:
    # given a document an administrator registered, then sent as a cache augments it
    document = f"query Me{secrets.token_hex(4)} {{ me {{ name customer {{ name }} }} }}"
    registered = await send(
        api, world, {"query": REGISTER, "variables": {"query": document}}, "admin"
    )
    assert registered.errors == []
    augmented = _as_a_cache_sends_it(document)
    apq = persisted(sha256(augmented))
    # when its augmented hash comes alone first (unknown), then with the text, then alone
    first = await send(api, world, {"query": "", "extensions": apq})
    with_text = await send(api, world, {"query": augmented, "extensions": apq})
    again = await send(api, world, {"extensions": apq})
    # then the client is asked for the text, which runs, and from then on its hash
    assert first.codes == ["PERSISTED_QUERY_NOT_FOUND"]
    for result in (with_text, again):
        assert result.errors == []
        assert result.data == {
            "me": {
                "name": world.anna.name,
                "customer": {"name": world.acme.name, "__typename": "Customer"},
                "__typename": "User",
            }
        }


@pytest.mark.usefixtures("registered_only")
@pytest.mark.parametrize(
    "change",
    [
        ("endCursor", "endCursor startCursor"),
        ("endCursor", "endCursor kind: __typename"),
        ("endCursor", "endCursor __typename @include(if: true)"),
        ("first: $first", "first: 100"),
    ],
    ids=["another-field", "aliased-typename", "typename-with-directive", "other-argument"],
)
async def test_registered_mode_refuses_any_other_change_than_added_typename(
    api: Api, world: World, change: tuple[str, str]
) -> None:
    # given the registered operation changed in another way than an added __typename
    changed = PROJECT_TIMELINE.replace(*change)
    assert changed != PROJECT_TIMELINE
    # when
    result = await send(api, world, {"query": changed, "variables": {"id": gid(world.portal)}})
    # then
    assert result.data is None
    assert result.errors[0]["extensions"]["reason"] == "PERSISTED_QUERY_NOT_REGISTERED"
