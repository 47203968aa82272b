"""Every request limit answers an abusive document with one short, coded refusal before
any resolver runs, and the server keeps serving (graphql_schema/limits.py)."""

from __future__ import annotations

import time
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from app.settings import Settings
from graphql_schema.schema import schema
from models import Micropost
from tests.conftest import Api, Result, gid
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
