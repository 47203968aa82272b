"""Property-based fuzzing of the API from its schema (hypothesis-graphql).

Random valid documents with random arguments, and random invalid documents, sent by a
member of staff, by a customer's contact and anonymously, must never get a 5xx, an
unexpected error (``INTERNAL``: an exception nobody handled) or an error without one of the
contract's codes; and the server must keep answering. A failure prints the document, which
hypothesis then keeps in ``.hypothesis/`` and tries first on the next run.

Then, deterministically, every input position of the schema (each argument of each root
field and of each field reached through ``node(id:)``, and each field of their input
objects), sent by an administrator and by a contact, with explicit nulls, text that storage
or UTF-8 cannot hold, texts and lists at and over their limits, non-finite numbers and
times without a zone or out of range:
each answer is a coded error or data, never ``INTERNAL``, on whichever database the suite
runs (CI runs it on PostgreSQL too).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import websockets
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLObjectType,
    Undefined,
    get_named_type,
    get_nullable_type,
    is_input_object_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    print_ast,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes
from starlette.applications import Starlette

from domain.errors import ERROR_CODES
from graphql_schema.relay import global_id
from graphql_schema.schema import schema
from tests.conftest import Api
from tests.live import GraphQLSocket, serve
from tests.world import World

CUSTOM_SCALARS = {
    "Date": st.sampled_from(["2026-11-23", "2026-02-30", "tomorrow", ""]).map(nodes.String),
    "DateTime": st.sampled_from(["2026-11-23T08:00:00+00:00", "yesterday", ""]).map(nodes.String),
    "Decimal": st.sampled_from(["1.50", "-3", "1e400", "NaN", "x"]).map(nodes.String),
    "JSON": st.sampled_from(["{}", "[1, 2]", '"x"']).map(nodes.String),
}
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
VIEWERS = ["sam", "max", None]


def _documents(mode: Mode) -> st.SearchStrategy[str]:
    # deferred: built when a test draws from it, not when the suite is collected
    return st.deferred(
        lambda: from_schema(
            schema._schema, custom_scalars=CUSTOM_SCALARS, mode=mode, print_ast=print_ast
        ).map(str)
    )


def _check(status: int, body: dict[str, Any], document: str) -> None:
    assert status < 500, (status, document)
    assert "data" in body or "errors" in body, (body, document)
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code in ERROR_CODES, (error, document)
        assert code != "INTERNAL", (error, document)


async def _send(api: Api, world: World, viewer: str | None, document: str) -> None:
    user = getattr(world, viewer) if viewer else None
    result = await api(document, as_user=user)
    _check(result.status, result.body, document)


@pytest.mark.slow  # a hypothesis search of the schema's documents
@pytest.mark.parametrize("viewer", VIEWERS)
@FUZZ
@given(document=_documents(Mode.POSITIVE))
async def test_valid_documents_get_coded_answers(
    api: Api, world: World, viewer: str | None, document: str
) -> None:
    await _send(api, world, viewer, document)


@pytest.mark.slow  # a hypothesis search of the schema's documents
@pytest.mark.parametrize("viewer", VIEWERS)
@FUZZ
@given(document=_documents(Mode.NEGATIVE))
async def test_invalid_documents_get_coded_answers(
    api: Api, world: World, viewer: str | None, document: str
) -> None:
    await _send(api, world, viewer, document)


ANY_TEXT = st.one_of(
    st.text(max_size=50),
    st.text(st.characters(codec=None, categories=None), max_size=50),  # surrogates, NUL
    st.sampled_from(["{ me { name } } # \ud800", "{ me { name } } # \x00"]),
)


@FUZZ
@given(
    body=st.one_of(
        st.dictionaries(
            st.sampled_from(["query", "variables", "operationName", "extensions"]),
            st.one_of(st.none(), ANY_TEXT, st.integers(), st.lists(st.integers())),
        ),
        st.lists(st.integers(), max_size=3),
        ANY_TEXT,
    )
)
async def test_malformed_request_bodies_get_client_errors(api: Api, body: Any) -> None:
    # JSON's \u escapes carry any code point, NUL and unpaired surrogates included
    response = await api.client.post(
        "/graphql", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500 or response.status_code == 200, response.text
    if response.status_code == 200:
        _check(response.status_code, response.json(), repr(body))


DEEP = 100_000


@pytest.mark.parametrize(
    "body",
    [
        "[" * DEEP + "]" * DEEP,
        '{"query": "{ me { name } }", "variables": {"v": ' + "[" * DEEP + "]" * DEEP + "}}",
        '{"query": "{ me { name } }", "extensions": ' + '{"a": ' * DEEP + "1" + "}" * DEEP + "}",
        '{"query": "{ me { name } }", "operationName": ' + "[" * DEEP + "]" * DEEP + "}",
    ],
    ids=["body", "variables", "extensions", "operationName"],
)
async def test_json_nested_too_deeply_is_malformed_json(api: Api, world: World, body: str) -> None:
    response = await api.client.post(
        "/graphql",
        content=body,
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {api.token_for(world.max)}",
        },
    )
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert (await api("{ me { name } }", as_user=world.max)).data == {"me": {"name": "Max"}}


async def test_json_nested_too_deeply_in_a_get_is_malformed_json(api: Api) -> None:
    deep = 2_000  # as deep as a URL can carry
    response = await api.client.get(
        "/graphql",
        params={"query": "{ __typename }", "variables": '{"a": ' * deep + "1" + "}" * deep},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error


async def test_a_websocket_message_nested_too_deeply_closes_as_malformed(
    app: Starlette, api: Api, world: World
) -> None:
    deep = "[" * DEEP + "]" * DEEP
    message = '{"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }", '
    message += '"variables": {"v": ' + deep + "}}}"
    async with serve(app) as address:
        async with GraphQLSocket.open(address, api.token_for(world.max)) as sock:
            assert (await sock.receive())["type"] == "connection_ack"
            await sock.connection.send(message)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await sock.receive()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4400
        async with GraphQLSocket.open(address, api.token_for(world.max)) as sock:
            assert (await sock.receive())["type"] == "connection_ack"


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"id": "1", "type": "subscribe", "payload": None}, "payload must be an object"),
        ({"id": "1", "type": "subscribe", "payload": ["{ me { name } }"]}, "payload must be"),
        ({"id": 5, "type": "subscribe", "payload": {"query": "{ me { name } }"}}, "id must be"),
        ({"type": "subscribe", "payload": {"query": "{ me { name } }"}}, "id must be"),
        ({"id": "\ud800", "type": "subscribe", "payload": {"query": "{ __typename }"}}, "id"),
        (
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": "{ me { name } }", "variables": [1]},
            },
            "payload.variables must be an object",
        ),
        (
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": "{ me { name } }", "operationName": ["Q"]},
            },
            "payload.operationName must be a string",
        ),
    ],
)
async def test_a_malformed_subscribe_message_closes_the_socket_as_invalid(
    app: Starlette, api: Api, world: World, message: dict[str, Any], reason: str
) -> None:
    async with serve(app) as address:
        async with GraphQLSocket.open(address, api.token_for(world.max)) as sock:
            assert (await sock.receive())["type"] == "connection_ack"
            await sock.send(message)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await sock.receive()
        assert closed.value.rcvd is not None, "closed without a close frame"
        assert closed.value.rcvd.code == 4400
        assert reason in closed.value.rcvd.reason
        async with GraphQLSocket.open(address, api.token_for(world.max)) as sock:
            assert (await sock.receive())["type"] == "connection_ack"
            await sock.subscribe("1", "{ me { name } }", {})
            assert (await sock.receive())["payload"]["data"] == {"me": {"name": "Max"}}


async def test_the_server_still_answers_after_the_fuzzing(api: Api, world: World) -> None:
    result = await api("{ me { name } }", as_user=world.max)
    assert result.data == {"me": {"name": "Max"}}


# --- every input position of the schema, with what storage and JSON cannot hold ------------
#
# Each argument of each root field, and each field of its input objects, is sent in turn
# with one hostile value (as a variable inside the written argument, so explicit nulls reach
# fields that have defaults), the other arguments plausible: IDs of the world's objects, by
# name. Deterministic, and run on whichever database the suite runs on.

_VARIABLE = object()  # where the hostile value goes
_IDS = {
    "accountTeamIds": ("User", "sam"),
    "actorId": ("User", "max"),
    "customerId": ("Customer", "acme"),
    "id": ("Project", "portal"),
    "inReplyToId": ("Micropost", "portal_post"),
    "memberIds": ("User", "max"),
    "micropostId": ("Micropost", "portal_post"),
    "notificationIds": ("Notification", "portal_post"),
    "pageId": ("Page", "portal_page"),
    "parentId": ("Page", "portal_page"),
    "projectId": ("Project", "portal"),
    "projectIds": ("Project", "portal"),
    "targetId": ("Project", "portal"),
    "userId": ("User", "max"),
}
_PLAIN = {
    "Boolean": False,
    "Int": 1,
    "Float": 1.0,
    "Decimal": "10",
    "Date": "2026-11-23",
    "DateTime": "2026-11-23T08:00:00+00:00",
    "JSON": {},
}


@dataclass(frozen=True)
class _Position:
    parent: str  # Query, Mutation, or a type reached through node(id:)
    field: str
    path: tuple[str | int, ...]  # the argument, then input fields; 0 for a list's item
    type: GraphQLInputType
    has_default: bool

    def __str__(self) -> str:
        return f"{self.field}." + ".".join(map(str, self.path))


def _positions(
    type_: GraphQLInputType, path: tuple[str | int, ...], has_default: bool, seen: frozenset[str]
) -> Iterator[tuple[tuple[str | int, ...], GraphQLInputType, bool]]:
    yield path, type_, has_default
    nullable = get_nullable_type(type_)
    if is_list_type(nullable):
        yield from _positions(nullable.of_type, (*path, 0), False, seen)
    elif is_input_object_type(nullable) and nullable.name not in seen:
        for name, field in nullable.fields.items():
            default = field.default_value is not Undefined
            yield from _positions(field.type, (*path, name), default, seen | {nullable.name})


_NODES = {
    "Customer": "acme",
    "Project": "portal",
    "Micropost": "portal_post",
    "Page": "portal_page",
}
"""Types whose fields take arguments, reached through ``node(id:)`` with this world object."""


def _all_positions() -> list[_Position]:
    found = []
    for parent in ("Query", "Mutation", *_NODES):
        type_ = schema._schema.get_type(parent)
        assert isinstance(type_, GraphQLObjectType)
        for name, field in type_.fields.items():
            for argument, definition in field.args.items():
                default = definition.default_value is not Undefined
                for path, input_type, has_default in _positions(
                    definition.type, (argument,), default, frozenset()
                ):
                    found.append(_Position(parent, name, path, input_type, has_default))
    return found


POSITIONS = _all_positions()


def _plausible(type_: GraphQLInputType, name: str, world: World) -> Any:
    nullable = get_nullable_type(type_)
    if is_list_type(nullable):
        return [_plausible(nullable.of_type, name, world)]
    if is_input_object_type(nullable):
        return {
            field_name: _plausible(field.type, field_name, world)
            for field_name, field in nullable.fields.items()
            if is_non_null_type(field.type) and field.default_value is Undefined
        }
    if isinstance(nullable, GraphQLEnumType):
        return _Enum(next(iter(nullable.values)))
    scalar = get_named_type(nullable).name
    if scalar == "ID":
        type_name, attribute = _IDS.get(name, ("Project", "portal"))
        return global_id(type_name, getattr(world, attribute).id)
    if scalar == "String":
        return "fuzz@acme.example" if "email" in name.lower() else "fuzz"
    return _PLAIN.get(scalar, "fuzz")


@dataclass(frozen=True)
class _Enum:
    name: str


def _literal(value: Any) -> str:
    if value is _VARIABLE:
        return "$v"
    if isinstance(value, _Enum):
        return value.name
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)  # a GraphQL string: JSON's escapes are GraphQL's


def _with_variable(
    value: Any, path: tuple[str | int, ...], type_: GraphQLInputType, world: World
) -> Any:
    if not path:
        return _VARIABLE
    head, rest = path[0], path[1:]
    nullable = get_nullable_type(type_)
    if is_list_type(nullable):
        return [_with_variable(value[0], rest, nullable.of_type, world)]
    assert isinstance(nullable, GraphQLInputObjectType)
    field = nullable.fields[head]
    inner = (
        value.get(head, _plausible(field.type, str(head), world))
        if isinstance(value, dict)
        else None
    )
    return {**value, head: _with_variable(inner, rest, field.type, world)}


def _document(position: _Position, world: World, nullable_variable: bool) -> str:
    parent = schema._schema.get_type(position.parent)
    assert isinstance(parent, GraphQLObjectType)
    field = parent.fields[position.field]
    arguments = []
    for name, definition in field.args.items():
        if name == position.path[0]:
            value = _with_variable(
                _plausible(definition.type, name, world), position.path[1:], definition.type, world
            )
        elif is_non_null_type(definition.type) and definition.default_value is Undefined:
            value = _plausible(definition.type, name, world)
        else:
            continue
        arguments.append(f"{name}: {_literal(value)}")
    type_ = position.type
    variable = str(get_nullable_type(type_) if nullable_variable else type_)
    returned = get_named_type(field.type)
    selection = "" if is_leaf_type(returned) else " { __typename }"
    call = f"{position.field}({', '.join(arguments)}){selection}"
    if position.parent == "Mutation":
        return f"mutation Fuzz($v: {variable}) {{ {call} }}"
    if position.parent != "Query":
        node = global_id(position.parent, getattr(world, _NODES[position.parent]).id)
        call = f'node(id: "{node}") {{ ... on {position.parent} {{ {call} }} }}'
    return f"query Fuzz($v: {variable}) {{ {call} }}"


def _scalar(position: _Position) -> str:
    nullable = get_nullable_type(position.type)
    return (
        ""
        if is_list_type(nullable) or is_input_object_type(nullable)
        else get_named_type(nullable).name
    )


LONG_TEXTS = ["x" * 255, "x" * 20_000, "x" * 20_001, "x" * 200_001]  # at and over limits
UNSTORABLE_TEXTS = ["a\x00b", "\x00", "a\ud800b", "\udfff"]
UNSTORABLE_TIMES = [
    "2026-11-23T08:00:00",
    "2026-11-23",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
]
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", float("nan"), float("inf"), 1e308 * 10]
# finite, but beyond what arithmetic or storage holds: an exponent past the Decimal context's,
# and amounts that round up to one more digit than a column keeps
UNSTORABLE_NUMBERS = ["1e999999999", "-1e999999999", "999999999999.995", 2**31, -(2**63)]


def _cases(kind: str, position: _Position, world: World) -> list[tuple[Any, bool]]:
    """(value, whether the variable is declared nullable) for one kind at one position."""
    scalar = _scalar(position)
    nullable = get_nullable_type(position.type)
    required = is_non_null_type(position.type) and not position.has_default
    if kind == "null":
        return [] if required else [(None, True)]
    if kind == "unstorable text" and scalar in ("String", "ID"):
        return [(text, False) for text in UNSTORABLE_TEXTS]
    if kind == "long text" and scalar in ("String", "ID"):
        return [(text, False) for text in LONG_TEXTS]
    if kind == "non-finite number" and scalar in ("Decimal", "Float", "Int"):
        return [(number, False) for number in [*NON_FINITE, *UNSTORABLE_NUMBERS]]
    if kind == "unstorable time" and scalar == "DateTime":
        return [(time, False) for time in UNSTORABLE_TIMES]
    if kind == "long list" and is_list_type(nullable):
        item = _plausible(nullable.of_type, str(position.path[-1]), world)
        return [([item] * 100, False), ([item] * 101, False), ([item] * 5_000, False)]
    return []


def _as_json(value: Any) -> Any:
    if isinstance(value, _Enum):
        return value.name
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    return value


@pytest.mark.slow  # hostile values in every input position of the schema
@pytest.mark.parametrize("viewer", ["admin", "max"])
@pytest.mark.parametrize(
    "kind",
    ["null", "unstorable text", "long text", "non-finite number", "unstorable time", "long list"],
)
async def test_every_input_position_answers_hostile_values_with_a_coded_error(
    api: Api, world: World, kind: str, viewer: str
) -> None:
    token = api.token_for(getattr(world, viewer))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    failures = []
    sent = 0
    for position in POSITIONS:
        for value, nullable_variable in _cases(kind, position, world):
            document = _document(position, world, nullable_variable)
            # JSON with \\u escapes (unpaired surrogates travel), NaN and Infinity as
            # Python's JSON writes them
            content = json.dumps({"query": document, "variables": {"v": _as_json(value)}})
            response = await api.client.post("/graphql", content=content, headers=headers)
            sent += 1
            body = response.json()
            codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
            if response.status_code >= 500 or "INTERNAL" in codes or None in codes:
                messages = [e.get("message", "")[:160] for e in body.get("errors") or []]
                failures.append(
                    f"{position} = {repr(value)[:30]}: {response.status_code} {messages}"
                )
    assert sent > 0
    assert not failures, "\n".join(map(str, failures))
