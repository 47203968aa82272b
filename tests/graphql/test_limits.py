"""Every request limit answers an abusive document with one short, coded refusal before
any resolver runs, and the server keeps serving (graphql_schema/limits.py)."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from gql import Client
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport
from gql.utilities import get_introspection_query_ast
from graphql import build_client_schema, get_introspection_query, parse, print_ast
from starlette.applications import Starlette

from app.main import ExtranetGraphQL
from domain.tokens import issue_access_token
from graphql_schema import inputs, limits
from graphql_schema.limits import Walk, operation_cost, shape_errors
from graphql_schema.schema import schema
from infra.settings import QueryLimits, Settings
from models import Micropost
from realtime.bus import EventBus
from tests.conftest import TEST_SESSION, Api, Result, gid
from tests.live import serve
from tests.world import World


def _limit(result: Result) -> str | None:
    assert result.data is None or all(v is None for v in result.data.values()), result.data
    [error] = result.errors
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    return str(error["extensions"].get("limit"))


def _nested(depth: int) -> str:
    """A query `depth` levels deep, counting its leaf: node { parent { … { id } } }."""
    inner = "id"
    levels = 0
    while levels < depth - 2:
        inner = f"parent {{ {inner} }}"
        levels += 1
    return f"query ($id: ID!) {{ node(id: $id) {{ ... on Micropost {{ {inner} }} }} }}"


async def test_a_query_deeper_than_ten_levels_is_refused(api: Api, world: World) -> None:
    variables = {"id": gid(world.portal_post)}
    assert (await api(_nested(10), variables, as_user=world.max)).errors == []
    assert _limit(await api(_nested(11), variables, as_user=world.max)) == "depth"


async def test_depth_hidden_in_fragments_is_counted(api: Api, world: World) -> None:
    query = """
    query ($id: ID!) { node(id: $id) { ...A } }
    fragment A on Micropost { parent { ...B } }
    fragment B on Micropost { parent { ...C } }
    fragment C on Micropost { parent { parent { parent { parent { parent { parent {
      parent { parent { id } } } } } } } } }
    """
    result = await api(query, {"id": gid(world.portal_post)}, as_user=world.max)
    assert _limit(result) == "depth"


async def test_more_than_fifteen_aliases_even_inside_fragments_are_refused(
    api: Api, world: World
) -> None:
    eight = " ".join(f"a{n}: name" for n in range(8))
    query = f"{{ me {{ ...F }} also: me {{ ...F }} }} fragment F on User {{ {eight} }}"
    result = await api(query, as_user=world.max)
    assert _limit(result) == "aliases"
    assert result.errors[0]["extensions"]["actual"] == 17


async def test_too_many_tokens_or_bytes_are_refused_before_parsing(api: Api, world: World) -> None:
    many_tokens = "{ me { " + "name " * 2_100 + "} }"
    tokens = await api(many_tokens, as_user=world.max)
    assert tokens.codes == ["BAD_USER_INPUT"]
    assert "2000 tokens" in tokens.errors[0]["message"]
    huge = "{ me { name } }" + "#" + "x" * 25_000  # a comment: few tokens, many bytes
    started = time.perf_counter()
    size = await api(huge, as_user=world.max)
    assert _limit(size) == "documentBytes"
    assert time.perf_counter() - started < 1


async def test_one_operation_per_request(api: Api, world: World) -> None:
    query = "query A { me { name } } query B { me { handle } }"
    result = await api(query + "", as_user=world.max)
    assert _limit(result) == "operations"


async def test_repeated_directives_are_refused_with_one_error(api: Api, world: World) -> None:
    directives = " ".join("@include(if: true)" for _ in range(200))
    result = await api(f"{{ me {{ name {directives} }} }}", as_user=world.max)
    assert _limit(result) == "directives"


async def test_validation_errors_are_capped(api: Api, world: World) -> None:
    fields = " ".join(f"unknown{n}" for n in range(300))
    result = await api(f"{{ me {{ {fields} }} }}", as_user=world.max)
    assert result.status in (200, 400)
    assert 1 <= len(result.errors) <= 11
    assert all(e["extensions"]["code"] == "BAD_USER_INPUT" for e in result.errors)


async def test_a_fragment_cycle_is_refused_without_hanging(api: Api, world: World) -> None:
    query = (
        "{ me { ...A } } fragment A on User { customer { contacts { edges { node { ...A } } } } }"
    )
    result = await api(query, as_user=world.max)
    assert result.codes
    assert set(result.codes) == {"BAD_USER_INPUT"}
    assert any("cycle" in e["message"] or "itself" in e["message"] for e in result.errors)


EXPENSIVE = """
query ($n: Int!) { projects(first: $n) { edges { node {
  timeline(first: $n) { edges { node { body replies(first: $n) { edges { node { body } } } } } }
} } } }
"""


async def test_the_cost_of_a_query_is_reported_and_a_budget_enforced(
    api: Api, world: World
) -> None:
    # a modest query answers, with its cost
    modest = await api(EXPENSIVE, {"n": 5}, as_user=world.sam)
    assert modest.errors == []
    cost = modest.body["extensions"]["cost"]
    assert cost["limit"] == 10_000
    assert 0 < cost["requested"] < 10_000
    # the same query asking for 100 of everything is refused before any resolver runs
    before = await Micropost.all().count()
    greedy = await api(EXPENSIVE, {"n": 100}, as_user=world.sam)
    assert _limit(greedy) == "cost"
    assert greedy.errors[0]["extensions"]["actual"] > 10_000
    assert await Micropost.all().count() == before
    # and the server goes on answering
    assert (await api("{ me { name } }", as_user=world.sam)).errors == []


def _production(settings: Settings) -> SimpleNamespace:
    limits = replace(settings.query_limits, production=True)
    return SimpleNamespace(
        settings=replace(settings, environment="production", query_limits=limits)
    )


async def test_in_production_introspection_is_off_and_suggestions_are_gone(
    api: Api,
) -> None:
    introspection = await schema.execute(
        "{ __schema { types { name } } }", context_value=_production(api.settings)
    )
    assert introspection.data is None
    assert introspection.errors
    typo = await schema.execute("{ mee { name } }", context_value=_production(api.settings))
    assert typo.errors
    assert "Did you mean" not in typo.errors[0].message
    # in development both are there, for the people building clients
    development = SimpleNamespace(settings=api.settings)
    assert (
        await schema.execute("{ __schema { queryType { name } } }", context_value=development)
    ).errors is None
    typo_dev = await schema.execute("{ mee { name } }", context_value=development)
    assert typo_dev.errors
    assert "Did you mean" in typo_dev.errors[0].message


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("GET", {"params": {"query": 'mutation { logout(input: {refreshToken: "x"}) { ok } }'}}),
        ("POST", {"data": {"query": 'mutation { logout(input: {refreshToken: "x"}) { ok } }'}}),
        (
            "POST",
            {"content": "mutation { me { name } }", "headers": {"content-type": "text/plain"}},
        ),
    ],
)
async def test_operations_only_as_json_posts(
    client: httpx.AsyncClient, method: str, kwargs: dict[str, Any]
) -> None:
    response = await client.request(method, "/graphql", **kwargs)
    assert response.status_code in (400, 405, 415)


def _doubling_chain(fragments: int) -> str:
    """`query Q { ...F0 }`, each fragment spreading the next twice, the last `__typename`."""
    last = fragments - 1
    spreads = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(last)]
    return " ".join(["query Q { ...F0 }", *spreads, f"fragment F{last} on Query {{ __typename }}"])


async def test_a_fragment_doubling_chain_is_refused_and_costed_without_expanding_it(
    api: Api,
) -> None:
    # anonymous; F0..F22: the 906-byte document once took 21 s of the event loop
    chain = _doubling_chain(23)
    assert len(chain.encode()) == 906
    result = await api(chain)
    assert _limit(result) == "cost"
    assert result.errors[0]["extensions"]["actual"] == 2**22  # one `__typename` per path
    # twice the fragments: a walk that expands spreads would never finish
    longer = await api(_doubling_chain(46))
    assert _limit(longer) == "cost"
    assert longer.errors[0]["extensions"]["actual"] == 2**45
    assert (await api("{ __typename }")).errors == []


def _work(query: str) -> int:
    document = parse(query)
    walk = Walk()
    assert shape_errors(document, QueryLimits(), walk) == []
    operation_cost(schema._schema, document, None, None, walk)
    return walk.nodes


def test_the_checks_do_work_linear_in_the_document_however_fragments_spread() -> None:
    # twice the fragments, twice the work (not 2^20 times), a few steps per selection
    twenty, forty = _work(_doubling_chain(20)), _work(_doubling_chain(40))
    assert forty <= 2.1 * twenty
    assert forty <= 10 * len(_doubling_chain(40).split("..."))
    # a fragment spread in many places is walked once
    fragment = "fragment U on User { name handle customer { name } }"
    one = "{ a: me { ...U } } " + fragment
    three = "{ a: me { ...U } b: me { ...U } c: me { ...U } } " + fragment
    assert _work(three) < 2 * _work(one)


def test_fragments_that_expand_beyond_a_multiple_of_the_document_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    twice = "{ me { ...U customer { contacts { edges { node { ...U } } } } } }"
    document = parse(twice + " fragment U on User { name handle email }")
    assert shape_errors(document, QueryLimits()) == []
    monkeypatch.setattr(limits, "EXPANSION_FACTOR", 1)
    [error] = shape_errors(document, QueryLimits())
    assert error.extensions is not None
    assert error.extensions["limit"] == "fragmentExpansion"


async def test_depth_counts_a_fragment_where_it_is_spread_deepest(api: Api, world: World) -> None:
    fragment = (
        "fragment A on User { customer { contacts { edges { node { customer { name } } } } } }"
    )
    shallow = f"{{ me {{ ...A }} }} {fragment}"  # 1 + 6 levels
    assert (await api(shallow, as_user=world.max)).errors == []
    deep = (
        "{ me { ...A customer { contacts { edges { node { ...A } } } } } } " + fragment
    )  # 5 + 6 levels
    result = await api(deep, as_user=world.max)
    assert _limit(result) == "depth"
    assert result.errors[0]["extensions"]["actual"] == 11


async def test_one_name_or_many_spreads_at_one_place_are_bounded(api: Api, world: World) -> None:
    # the merge check compares selections of one name at one place pairwise
    assert (await api("{ " + "me { name } " * 20 + "}", as_user=world.max)).errors == []
    repeated = await api("{ " + "me { name } " * 21 + "}", as_user=world.max)
    assert _limit(repeated) == "repeats"
    assert repeated.errors[0]["extensions"]["actual"] == 21
    # inline fragments and different parents with one response name share the place
    inline = "{ me { " + "... on User { name } " * 21 + "} }"
    assert _limit(await api(inline, as_user=world.max)) == "repeats"
    parents = "{ " + " ".join(["me { name name }"] * 11) + " }"
    assert _limit(await api(parents, as_user=world.max)) == "repeats"
    spreads = " ".join(f"...F{i}" for i in range(21))
    fragments = " ".join(f"fragment F{i} on Query {{ __typename }}" for i in range(21))
    assert _limit(await api(f"{{ {spreads} }} {fragments}")) == "repeats"


async def test_selections_of_fragments_that_meet_at_one_place_are_counted_together(
    api: Api, world: World
) -> None:
    def meeting(fragments: int) -> str:
        spreads = " ".join(f"...F{i}" for i in range(fragments))
        contacts = "contacts { totalCount } " * 5
        definitions = " ".join(
            f"fragment F{i} on User {{ customer {{ {contacts}}} }}" for i in range(fragments)
        )
        return f"{{ me {{ {spreads} }} }} {definitions}"

    assert (await api(meeting(4), as_user=world.max)).errors == []
    refused = await api(meeting(5), as_user=world.max)
    assert _limit(refused) == "repeats"
    assert refused.errors[0]["extensions"]["actual"] == 25


async def test_a_document_with_more_than_fifty_fragments_is_refused(api: Api) -> None:
    def tree(count: int) -> str:
        spreads = " ".join(f"...F{i}" for i in range(1, count))
        parts = [f"{{ ...F0 }} fragment F0 on Query {{ __typename {spreads} }}"]
        parts += [f"fragment F{i} on Query {{ __typename }}" for i in range(1, count)]
        return " ".join(parts)

    assert _limit(await api(tree(51))) == "fragments"
    assert (await api(tree(20))).errors == []  # twenty fragments, nineteen at one place


DEFAULTED = """query ($n: Int! = 100) { projects(first: $n) { edges { node {
  timeline(first: $n) { edges { node { id replies(first: $n) { totalCount } } } }
} } } }"""


async def test_the_cost_counts_the_value_first_will_have_however_it_is_given(
    api: Api, world: World
) -> None:
    literal = DEFAULTED.replace("($n: Int! = 100) ", "").replace("$n", "100")
    forms = [
        await api(DEFAULTED, as_user=world.sam),  # the variable's default
        await api(DEFAULTED, {"n": 100}, as_user=world.sam),
        await api(DEFAULTED, {"n": 100.0}, as_user=world.sam),  # coerced to 100
        await api(literal, as_user=world.sam),
    ]
    for result in forms:
        assert _limit(result) == "cost"
    assert {r.errors[0]["extensions"]["actual"] for r in forms} == {1_040_301}
    # a small page costs the same by default as given
    small = DEFAULTED.replace("= 100", "= 3")
    by_default = await api(small, as_user=world.sam)
    given = await api(small, {"n": 3.0}, as_user=world.sam)
    assert by_default.errors == given.errors == []
    assert by_default.body["extensions"]["cost"] == given.body["extensions"]["cost"]
    assert by_default.body["extensions"]["cost"]["requested"] == 1 + 3 * (3**2 + 4 * 3 + 3)


async def test_invalid_variables_are_refused_before_the_cost(api: Api, world: World) -> None:
    for variables in ({"n": "many"}, {"n": 1.5}, {"n": None}):
        result = await api(DEFAULTED, variables, as_user=world.sam)
        assert result.codes == ["BAD_USER_INPUT"]
        assert "$n" in result.errors[0]["message"]
        assert "limit" not in result.errors[0]["extensions"]


INVALID: list[tuple[str, dict[str, Any]]] = [
    ("{ me }", {}),
    ("{ me { nope } }", {}),
    ("{ me { name(x: 1) } }", {}),
    ("{ me { ... on Project { name } } }", {}),
    ("{ me { ...F } } fragment F on Project { name }", {}),
    ("query ($x: User) { me { name } }", {}),
    ("{ projects(status: NOPE) { totalCount } }", {}),
    ('mutation { login(input: {email: "a"}) { accessToken } }', {}),
    ('{ auditLog(since: "yesterday") { totalCount } }', {}),
    (
        'query { node(id: "x") { ... on User { a: name } ... on Project { a: status } } }',
        {},
    ),
    ("query ($s: ProjectStatus) { projects(status: $s) { totalCount } }", {"s": "NOPE"}),
    ("mutation ($i: LoginInput!) { login(input: $i) { accessToken } }", {"i": {"email": "a"}}),
    ("mutation ($i: LoginInput!) { login(input: $i) { accessToken } }", {"i": 3}),
]
# names every schema has (the built-in scalars and the root types) tell nothing
PUBLIC_NAMES = {"Int", "Float", "String", "Boolean", "ID", "Query", "Mutation", "Subscription"}


def _type_names_in(message: str) -> set[str]:
    types = {name for name in schema._schema.type_map if not name.startswith("__")}
    return set(re.findall(r"[_A-Za-z][_0-9A-Za-z]*", message)) & (types - PUBLIC_NAMES)


@pytest.fixture
async def production_api(settings: Settings, bus: EventBus) -> AsyncIterator[Api]:
    production = _production(settings).settings
    view = ExtranetGraphQL(production, bus)
    transport = httpx.ASGITransport(app=view)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client=client, settings=production)


async def test_in_production_validation_messages_name_no_schema_type(
    api: Api, production_api: Api, world: World
) -> None:
    # given a field of an object type without a selection
    production = await production_api("{ me }", as_user=world.max)
    development = await api("{ me }", as_user=world.max)
    # then production says what is wrong without naming the type
    [error] = production.errors
    assert error["message"] == (
        "Field 'me' must have a selection of subfields. Did you mean 'me { ... }'?"
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "of type 'User'" in development.errors[0]["message"]
    # and so for every validation and variable message that names a type in development
    for query, variables in INVALID:
        named = await api(query, variables, as_user=world.max)
        assert any(_type_names_in(e["message"]) for e in named.errors), (query, named.errors)
        result = await production_api(query, variables, as_user=world.max)
        assert result.codes
        assert set(result.codes) == {"BAD_USER_INPUT"}, (query, result.errors)
        for error in result.errors:
            assert not _type_names_in(error["message"]), (query, error["message"])


# --- introspection: every standard client's query runs, and stays bounded -------------

STANDARD_INTROSPECTION = {
    "graphql-js defaults": get_introspection_query(),
    "graphql-js, every option": get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
        experimental_directive_deprecation=True,
        one_of=True,
    ),
    "graphql-js, type depth 14": get_introspection_query(
        input_value_deprecation=True, type_depth=14
    ),
    "gql": print_ast(get_introspection_query_ast(input_value_deprecation=True)),
}


@pytest.mark.parametrize("query", STANDARD_INTROSPECTION.values(), ids=STANDARD_INTROSPECTION)
async def test_every_standard_introspection_query_runs_in_development(api: Api, query: str) -> None:
    # when a client introspects the schema (GraphiQL, code generators, schema checkers)
    result = await api(query)
    # then it gets the whole schema, from which it can build the client schema
    assert result.status == 200
    assert result.errors == []
    client_schema = build_client_schema(result.data)
    assert client_schema.get_type("Project") is not None
    assert set(client_schema.type_map) == set(schema._schema.type_map)


async def test_gql_fetches_the_schema_over_http_and_over_the_websocket(
    app: Starlette, world: World, settings: Settings
) -> None:
    # over HTTP (anonymous)
    http = HTTPXAsyncTransport(
        url="http://testserver/graphql", transport=httpx.ASGITransport(app=app)
    )
    async with Client(transport=http, fetch_schema_from_transport=True) as session:
        assert session.client.schema is not None
        assert session.client.schema.get_type("Micropost") is not None
    # and over the websocket (signed in), as subscription clients do
    token = issue_access_token(settings, world.max.id, TEST_SESSION)
    async with serve(app) as address:
        socket = WebsocketsTransport(
            url=f"ws://{address}/graphql",
            init_payload={"authorization": f"Bearer {token}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=socket, fetch_schema_from_transport=True) as session:
            assert session.client.schema is not None
            assert session.client.schema.subscription_type is not None


def _of_type_chain(levels: int) -> str:
    """`{ __type(name: "Project") { ofType { … { name } } } }`, `levels` deep in all."""
    inner = "name"
    for _ in range(levels - 2):
        inner = f"ofType {{ {inner} }}"
    return f'{{ __type(name: "Project") {{ {inner} }} }}'


async def test_a_deep_introspection_chain_is_refused_beyond_twenty_levels(api: Api) -> None:
    # within the depth standard clients need (and beyond the limit of other queries)
    allowed = await api(_of_type_chain(limits.INTROSPECTION_DEPTH))
    assert allowed.errors == []
    assert allowed.data == {"__type": {"ofType": None}}
    # one level more is refused before anything runs
    refused = await api(_of_type_chain(limits.INTROSPECTION_DEPTH + 1))
    assert _limit(refused) == "introspectionDepth"
    assert refused.errors[0]["extensions"]["actual"] == limits.INTROSPECTION_DEPTH + 1
    # and so is a chain hidden in fragments spread inside the introspection
    hidden = """
    { __type(name: "Project") { ...A } }
    fragment A on __Type { ofType { ofType { ofType { ofType { ofType { ...B } } } } } }
    fragment B on __Type { ofType { ofType { ofType { ofType { ofType { ...C } } } } } }
    fragment C on __Type { ofType { ofType { ofType { ofType { ofType { ofType { ofType {
      ofType { ofType { ofType { name } } } } } } } } } } }
    """
    assert _limit(await api(hidden)) == "introspectionDepth"


async def test_the_rest_of_an_operation_with_introspection_keeps_its_own_limits(
    api: Api, world: World
) -> None:
    # the introspection part is measured apart: the rest may not go deeper than ten levels
    deep = _nested(11).replace("node(id: $id)", "__schema { queryType { name } } node(id: $id)")
    result = await api(deep, {"id": gid(world.portal_post)}, as_user=world.max)
    assert _limit(result) == "depth"
    # nor cost more than its budget (the same expensive query, with introspection)
    greedy = EXPENSIVE.replace("{", "{ __schema { types { name } }", 1)
    assert _limit(await api(greedy, {"n": 100}, as_user=world.sam)) == "cost"
    # and a query within its limits runs with the introspection beside it
    shallow = await api(
        _nested(10).replace("node(id: $id)", "__schema { queryType { name } } node(id: $id)"),
        {"id": gid(world.portal_post)},
        as_user=world.max,
    )
    assert shallow.errors == []
    assert shallow.data["__schema"] == {"queryType": {"name": "Query"}}


async def test_introspection_that_multiplies_the_schema_is_refused(api: Api) -> None:
    # types, their fields, their arguments, the fields of the arguments' types and their
    # arguments: five nested lists, each counted as ten items
    nested = "types { fields { args { type { fields { args { type { name } } } } } } }"
    result = await api(f"{{ __schema {{ {nested} }} }}")
    assert _limit(result) == "introspectionCost"
    assert result.errors[0]["extensions"]["maximum"] == limits.INTROSPECTION_COST
    # types inside types inside types: refused by the specification's rule
    recursive = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    refused = await api(recursive)
    assert refused.data is None
    assert "introspection depth" in refused.errors[0]["message"]


async def test_in_production_the_standard_introspection_is_refused(production_api: Api) -> None:
    result = await production_api(STANDARD_INTROSPECTION["graphql-js, every option"])
    assert result.data is None
    assert result.errors
    assert "introspection" in result.errors[0]["message"].lower()


def test_the_cost_check_coerces_no_more_of_a_list_than_the_input_limits_let_through() -> None:
    # given 100,000 IDs in one variable (2.4 MB: under the body limit)
    document = parse(
        "mutation ($ids: [ID!]) { markNotificationsRead(input: { notificationIds: $ids })"
        " { marked } }"
    )
    sent = {"ids": [f"Tm90aWZpY2F0aW9uOj{n}" for n in range(100_000)]}
    # when the cost check reads the variables as execution would
    values = limits.coerced_variables(schema._schema, document, None, sent, QueryLimits())
    # then it coerced one item past the list limit (which the input check then refuses),
    # not all of them: its work is bounded by the limits, not by what was sent
    assert not isinstance(values, list)
    assert values is not None
    assert len(values.coerced["ids"]) == inputs.MAX_LIST_ITEMS + 1
