"""The cost check is kept by the document's text, the limits, the operation's name and
the variables' JSON: the same request again costs the same and is refused the same, and
other variables are checked afresh (graphql_schema/limits.py)."""

from __future__ import annotations

from tests.conftest import Api
from tests.world import World

QUERY = """query ($n: Int! = 3) { projects(first: $n) { edges { node {
  timeline(first: $n) { edges { node { id replies(first: $n) { totalCount } } } }
} } } }"""


async def test_a_repeated_request_costs_the_same_and_other_variables_are_costed_again(
    api: Api, world: World
) -> None:
    literal = await api(QUERY.replace("($n: Int! = 3) ", "").replace("$n", "2"), as_user=world.sam)
    assert literal.errors == []
    small = [await api(QUERY, {"n": 2}, as_user=world.sam) for _ in range(2)]
    for result in small:
        assert result.errors == []
        assert result.body["extensions"]["cost"] == literal.body["extensions"]["cost"]
    large = [await api(QUERY, {"n": 100}, as_user=world.sam) for _ in range(2)]
    for result in large:
        [error] = result.errors
        assert error["extensions"]["limit"] == "cost"
        assert error["extensions"]["actual"] == 1_040_301
    again = await api(QUERY, {"n": 2}, as_user=world.sam)
    assert again.errors == []
    assert again.body["extensions"]["cost"] == small[0].body["extensions"]["cost"]
    invalid = [await api(QUERY, {"n": "many"}, as_user=world.sam) for _ in range(2)]
    for result in invalid:
        assert result.codes == ["BAD_USER_INPUT"]
        assert "$n" in result.errors[0]["message"]
    # the same value sent as another JSON type is another key, coerced as before
    assert (await api(QUERY, {"n": 2.0}, as_user=world.sam)).body["extensions"]["cost"] == (
        small[0].body["extensions"]["cost"]
    )
