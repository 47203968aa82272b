"""Property-based fuzzing of the API from its schema (hypothesis-graphql).

Random valid documents with random arguments, and random invalid documents, sent by a
member of staff, by a customer's contact and anonymously, must never get a 5xx, an
unexpected error (``INTERNAL``: an exception nobody handled) or an error without one of the
contract's codes; and the server must keep answering. A failure prints the document, which
hypothesis then keeps in ``.hypothesis/`` and tries first on the next run.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import print_ast
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from app.errors import ERROR_CODES
from graphql_schema.schema import schema
from tests.conftest import Api
from tests.world import World

CUSTOM_SCALARS = {
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
    return from_schema(
        schema._schema, custom_scalars=CUSTOM_SCALARS, mode=mode, print_ast=print_ast
    ).map(str)


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


@pytest.mark.parametrize("viewer", VIEWERS)
@FUZZ
@given(document=_documents(Mode.POSITIVE))
async def test_valid_documents_get_coded_answers(
    api: Api, world: World, viewer: str | None, document: str
) -> None:
    await _send(api, world, viewer, document)


@pytest.mark.parametrize("viewer", VIEWERS)
@FUZZ
@given(document=_documents(Mode.NEGATIVE))
async def test_invalid_documents_get_coded_answers(
    api: Api, world: World, viewer: str | None, document: str
) -> None:
    await _send(api, world, viewer, document)


@FUZZ
@given(
    body=st.one_of(
        st.dictionaries(
            st.sampled_from(["query", "variables", "operationName", "extensions"]),
            st.one_of(st.none(), st.text(max_size=50), st.integers(), st.lists(st.integers())),
        ),
        st.lists(st.integers(), max_size=3),
        st.text(max_size=50),
    )
)
async def test_malformed_request_bodies_get_client_errors(api: Api, body: Any) -> None:
    response = await api.client.post("/graphql", json=body)
    assert 400 <= response.status_code < 500 or response.status_code == 200, response.text
    if response.status_code == 200:
        _check(response.status_code, response.json(), repr(body))


async def test_the_server_still_answers_after_the_fuzzing(api: Api, world: World) -> None:
    result = await api("{ me { name } }", as_user=world.max)
    assert result.data == {"me": {"name": "Max"}}
