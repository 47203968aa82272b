"""Every error carries a contract code; no exception text reaches a client in production."""

import asyncio

import httpx
import pytest
from tortoise.exceptions import IntegrityError

from actions import microposts
from domain.text import PostText
from graphql_schema.errors import concurrent_change
from models import AccountTeamMembership, Customer, Micropost
from tests.conftest import Api, gid
from tests.world import World

POST = """
mutation Post($project: ID!) {
  postMicropost(input: {projectId: $project, body: "hello"}) { micropost { id } }
}
"""


@pytest.fixture
def broken_renderer(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(_source: str) -> PostText:
        raise RuntimeError("password=hunter2 at db.internal:5432")

    monkeypatch.setattr(microposts, "read_post", explode)


@pytest.mark.usefixtures("broken_renderer")
async def test_an_unexpected_failure_is_masked_in_production(
    production_api: Api, world: World
) -> None:
    # given
    before = await Micropost.all().count()
    # when
    result = await production_api(POST, {"project": gid(world.portal)}, as_user=world.sam)
    # then
    assert result.data == {"postMicropost": None}
    [error] = result.errors
    assert error["extensions"]["code"] == "INTERNAL"
    assert error["extensions"]["reference"]
    assert "hunter2" not in str(result.body)
    assert "RuntimeError" not in str(result.body)
    assert error["message"].startswith("Something went wrong on our side (reference ")
    assert await Micropost.all().count() == before


@pytest.mark.usefixtures("broken_renderer")
async def test_development_shows_the_failure_to_the_developer(api: Api, world: World) -> None:
    result = await api(POST, {"project": gid(world.portal)}, as_user=world.sam)
    assert result.codes == ["INTERNAL"]
    assert "hunter2" in result.errors[0]["message"]


@pytest.mark.parametrize(
    "query",
    [
        "{ me { nosuchfield } }",
        "{ me { name ",
        'mutation { watch(input: {targetId: "x", level: LOUD}) { watch { id } } }',
    ],
)
async def test_invalid_documents_are_bad_user_input(
    production_api: Api, world: World, query: str
) -> None:
    result = await production_api(query, as_user=world.max)
    assert result.codes
    assert set(result.codes) == {"BAD_USER_INPUT"}


async def test_a_malformed_id_is_bad_user_input(api: Api, world: World) -> None:
    result = await api('{ project(id: "not-an-id") { name } }', as_user=world.sam)
    assert result.codes == ["BAD_USER_INPUT"]


async def test_graphiql_is_served_in_development_only(
    client: httpx.AsyncClient, production_api: Api
) -> None:
    html = {"Accept": "text/html"}
    development = await client.get("/graphql", headers=html)
    production = await production_api.client.get("/graphql", headers=html)
    assert development.status_code == 200
    assert "graphiql" in development.text.lower()
    assert production.status_code == 404


async def test_queries_are_answered_over_get_and_mutations_are_not(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/graphql", params={"query": "{ __typename }"})
    assert response.json()["data"] == {"__typename": "Query"}
    response = await client.get("/graphql", params={"query": "mutation { __typename }"})
    assert response.status_code == 405


CREATE_CUSTOMER = """
mutation ($name: String!) { createCustomer(input: { name: $name }) { customer { slug } } }
"""


async def test_the_same_customer_created_by_requests_at_once_is_one_and_conflicts(
    api: Api, world: World
) -> None:
    results = await asyncio.gather(
        *(api(CREATE_CUSTOMER, {"name": "Racer"}, as_user=world.admin) for _ in range(6))
    )
    codes = sorted(code for result in results for code in result.codes)
    assert codes == ["CONFLICT"] * 5, [result.errors for result in results]
    assert await Customer.filter(slug="racer").count() == 1


async def test_a_unique_or_reference_violation_of_the_database_is_a_concurrent_change(
    world: World,
) -> None:
    with pytest.raises(IntegrityError) as duplicate:
        await Customer.create(name="Acme again", slug=world.acme.slug)
    assert concurrent_change(duplicate.value)
    with pytest.raises(IntegrityError) as dangling:
        await AccountTeamMembership.create(customer_id=world.acme.id, user_id=2**31 - 1)
    assert concurrent_change(dangling.value)
    assert not concurrent_change(ValueError("not the database"))
