"""Input that storage or JSON cannot hold is refused with BAD_USER_INPUT naming the field,
alike on SQLite and PostgreSQL; requests larger than the body limit are refused unread."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import httpx
import pytest
import websockets
from graphql.execution.values import get_variable_values
from starlette.applications import Starlette

from actions import _common
from actions._common import PAGE_MAX_LENGTH
from graphql_schema import inputs
from graphql_schema.inputs import DEFAULT_TEXT_LIMIT, ID_MAX_LENGTH, MAX_LIST_ITEMS
from models import Customer, Invitation, Micropost, Page, User
from tests.conftest import Api, Result, gid
from tests.live import GraphQLSocket, serve
from tests.world import World

POST = """
mutation ($project: ID!, $body: String!) {
  postMicropost(input: { projectId: $project, body: $body }) { micropost { id } }
}"""
CREATE_PAGE = """
mutation ($project: ID!, $title: String!, $body: String! = "") {
  createPage(input: { projectId: $project, title: $title, body: $body }) { page { id } }
}"""
LOGIN = """
mutation ($email: String!) { login(input: { email: $email, password: "x" }) { accessToken } }"""
INVITE = """
mutation ($customer: ID!, $email: String!, $projects: [ID!]! = []) {
  inviteContact(
    input: { customerId: $customer, email: $email, name: "New", projectIds: $projects }
  ) {
    invitationToken
  }
}"""
AUDIT = """
query ($target: String) { auditLog(target: $target) { edges { node { action } } } }"""
CREATE_CUSTOMER = """
mutation ($budget: Decimal) {
  createCustomer(input: { name: "Initech", annualBudget: $budget }) { customer { annualBudget } }
}"""
UPDATE_PAGE = """
mutation ($page: ID!, $title: String, $summary: String) {
  updatePage(
    input: { pageId: $page, baseRevision: 1, title: $title, body: "new", summary: $summary }
  ) {
    revision { number summary }
  }
}"""
UPDATE_PAGE_WITHOUT_SUMMARY = """
mutation ($page: ID!, $title: String) {
  updatePage(input: { pageId: $page, baseRevision: 1, title: $title, body: "new" }) {
    revision { number summary }
  }
}"""
MARK_READ = """
mutation ($ids: [ID!]) { markNotificationsRead(input: { notificationIds: $ids }) { marked } }"""
TIMELINE = """
subscription ($p: ID!, $after: String) {
  projectTimeline(projectId: $p, after: $after) { __typename }
}"""


async def _raw(api: Api, user: User | None, query: str, variables: dict[str, Any]) -> Result:
    """Send variables as JSON with \\u escapes, so texts that UTF-8 cannot encode (unpaired
    surrogates) reach the server as a client may send them."""
    headers = {"Content-Type": "application/json"}
    if user is not None:
        headers["Authorization"] = f"Bearer {api.token_for(user)}"
    content = json.dumps({"query": query, "variables": variables})  # ensure_ascii
    response = await api.client.post("/graphql", content=content, headers=headers)
    return Result(status=response.status_code, body=response.json())


def _refused(result: Result, field: str) -> dict[str, Any]:
    assert result.status == 200, result.body
    assert result.data is None, result.body
    [error] = result.errors
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == field, error
    assert field in error["message"]
    return error


# --- text the database cannot store ---------------------------------------------------


@pytest.mark.parametrize("text", ["Kick-off\x00notes", "\x00"])
async def test_nul_in_a_micropost_body_is_refused_and_nothing_stored(
    api: Api, world: World, text: str
) -> None:
    # given
    before = await Micropost.all().count()
    # when
    result = await _raw(api, world.max, POST, {"project": gid(world.portal), "body": text})
    # then
    _refused(result, "body")
    assert result.errors[0]["extensions"]["argumentPath"] == ["postMicropost", "input", "body"]
    assert await Micropost.all().count() == before


async def test_nul_in_a_page_title_is_refused(api: Api, world: World) -> None:
    before = await Page.all().count()
    result = await _raw(
        api, world.max, CREATE_PAGE, {"project": gid(world.portal), "title": "Plan\x00B"}
    )
    _refused(result, "title")
    assert await Page.all().count() == before


async def test_nul_in_a_login_email_is_refused(api: Api) -> None:
    result = await _raw(api, None, LOGIN, {"email": "gina@globex.example\x00"})
    _refused(result, "email")


async def test_nul_in_an_invited_email_is_refused(api: Api, world: World) -> None:
    result = await _raw(
        api, world.anna, INVITE, {"customer": gid(world.acme), "email": "new\x00@acme.example"}
    )
    _refused(result, "email")
    assert not await User.filter(email__startswith="new").exists()


async def test_nul_in_an_audit_log_filter_is_refused(api: Api, world: World) -> None:
    result = await _raw(api, world.admin, AUDIT, {"target": "Project:1\x00"})
    _refused(result, "target")


async def test_nul_written_in_the_document_is_refused_too(api: Api, world: World) -> None:
    project = gid(world.portal)
    query = (
        f'mutation {{ postMicropost(input: {{ projectId: "{project}", body: "a\\u0000b" }}) '
        "{ micropost { id } } }"
    )
    result = await api(query, as_user=world.max)
    _refused(result, "body")


async def test_an_unpaired_surrogate_is_refused(api: Api, world: World) -> None:
    result = await _raw(api, world.max, POST, {"project": gid(world.portal), "body": "hi \ud800"})
    error = _refused(result, "body")
    assert "surrogate" in error["message"]


async def test_a_surrogate_pair_is_text_and_is_stored(api: Api, world: World) -> None:
    # "\ud83d\ude80" in JSON is one character, a rocket
    result = await _raw(
        api, world.max, POST, {"project": gid(world.portal), "body": "go \U0001f680"}
    )
    assert result.errors == []
    micropost = await Micropost.all().order_by("-id").first()
    assert micropost is not None
    assert micropost.body == "go \U0001f680"


async def test_nul_in_a_subscription_argument_is_refused_on_the_websocket(
    app: Starlette, api: Api, world: World
) -> None:
    async with serve(app) as address, GraphQLSocket.open(address, api.token_for(world.max)) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("1", TIMELINE, {"p": gid(world.portal), "after": "\x00"})
        message = await sock.receive()
    assert message["type"] == "error", message
    [error] = message["payload"]
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "after",
        "argumentPath": ["projectTimeline", "after"],
    }


# --- numbers that are not numbers -----------------------------------------------------


@pytest.mark.parametrize(
    "budget",
    ["NaN", "Infinity", "-Infinity", "sNaN", "1e400", "1e12", "1e999999999", "-1e999999999"],
)
async def test_non_finite_or_unstorable_amounts_are_refused(
    api: Api, world: World, budget: str
) -> None:
    before = await Customer.all().count()
    result = await _raw(api, world.admin, CREATE_CUSTOMER, {"budget": budget})
    _refused(result, "annualBudget")
    assert await Customer.all().count() == before


async def test_nan_written_in_the_document_is_refused(api: Api, world: World) -> None:
    result = await api(
        'mutation { createCustomer(input: { name: "I", annualBudget: "NaN" }) { __typename } }',
        as_user=world.admin,
    )
    _refused(result, "annualBudget")


async def test_a_json_number_too_large_for_a_float_is_refused(api: Api, world: World) -> None:
    # JSON's 1e400 reads as infinity
    content = f'{{"query": {json.dumps(CREATE_CUSTOMER)}, "variables": {{"budget": 1e400}}}}'
    response = await api.client.post(
        "/graphql",
        content=content,
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {api.token_for(world.admin)}",
        },
    )
    _refused(Result(response.status_code, response.json()), "annualBudget")


async def test_a_finite_amount_is_stored(api: Api, world: World) -> None:
    result = await _raw(api, world.admin, CREATE_CUSTOMER, {"budget": "999999999999.99"})
    assert result.errors == []
    assert result.data["createCustomer"]["customer"]["annualBudget"] == "999999999999.99"


async def test_an_amount_that_rounds_beyond_the_largest_is_refused(api: Api, world: World) -> None:
    result = await _raw(api, world.admin, CREATE_CUSTOMER, {"budget": "999999999999.995"})
    assert result.codes == ["BAD_USER_INPUT"], result.body
    assert result.errors[0]["extensions"]["field"] == "annualBudget"
    assert await Customer.filter(name="Initech").count() == 0


@pytest.mark.parametrize(
    ("budget", "stored"), [("-0", "0.00"), ("0.015", "0.02"), ("1E+3", "1000.00")]
)
async def test_an_amount_is_stored_rounded_to_cents(
    api: Api, world: World, budget: str, stored: str
) -> None:
    result = await _raw(api, world.admin, CREATE_CUSTOMER, {"budget": budget})
    assert result.errors == []
    assert result.data["createCustomer"]["customer"]["annualBudget"] == stored


@pytest.mark.parametrize(
    ("since", "problem"),
    [
        ("2026-11-23T08:00:00", "time zone"),
        ("2026-11-23", "time zone"),
        ("0001-01-01T00:00:00+14:00", "out of range"),
        ("9999-12-31T23:59:59-14:00", "out of range"),
    ],
)
async def test_times_without_a_zone_or_out_of_range_are_refused(
    api: Api, world: World, since: str, problem: str
) -> None:
    query = "query ($t: DateTime) { auditLog(since: $t) { edges { node { action } } } }"
    error = _refused(await _raw(api, world.admin, query, {"t": since}), "since")
    assert problem in error["message"]


async def test_a_time_with_its_zone_is_served(api: Api, world: World) -> None:
    query = "query ($t: DateTime) { auditLog(since: $t) { edges { node { action } } } }"
    result = await _raw(api, world.admin, query, {"t": "0001-01-01T00:00:00Z"})
    assert result.errors == []
    assert result.data["auditLog"]["edges"]


# --- explicit nulls -------------------------------------------------------------------


async def test_null_for_a_field_with_a_default_is_refused_without_a_traceback(
    api: Api, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    caplog.set_level(logging.ERROR)
    # when: summary is `String! = ""`, and $s is null
    result = await _raw(
        api, world.max, UPDATE_PAGE, {"page": gid(world.portal_page), "summary": None}
    )
    # then
    error = _refused(result, "summary")
    assert error["extensions"]["argumentPath"] == ["updatePage", "input", "summary"]
    assert "leave it out" in error["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    page = await Page.get(id=world.portal_page.id)
    assert page.body != "new"


async def test_leaving_the_field_out_gives_its_default(api: Api, world: World) -> None:
    result = await _raw(
        api, world.max, UPDATE_PAGE_WITHOUT_SUMMARY, {"page": gid(world.portal_page)}
    )
    assert result.errors == []
    assert result.data["updatePage"]["revision"] == {"number": 2, "summary": ""}


async def test_null_for_a_nullable_field_means_not_given(api: Api, world: World) -> None:
    title = world.portal_page.title
    result = await _raw(
        api, world.max, UPDATE_PAGE, {"page": gid(world.portal_page), "title": None, "summary": "s"}
    )
    assert result.errors == []
    assert (await Page.get(id=world.portal_page.id)).title == title


# --- long texts and lists -------------------------------------------------------------


async def test_a_page_body_may_hold_the_page_limit_and_no_more(api: Api, world: World) -> None:
    # sent the longest way JSON can: 12 bytes a character (a \u-escaped surrogate pair)
    body = "\U0001f680" * PAGE_MAX_LENGTH
    variables = {"project": gid(world.portal), "title": "Long", "body": body}
    assert (await _raw(api, world.max, CREATE_PAGE, variables)).errors == []
    variables["body"] += "!"
    _refused(await _raw(api, world.max, CREATE_PAGE, variables), "body")


async def test_other_texts_have_the_default_limit(api: Api, world: World) -> None:
    text = "x" * (DEFAULT_TEXT_LIMIT + 1)
    result = await _raw(api, world.max, POST, {"project": gid(world.portal), "body": text})
    error = _refused(result, "body")
    assert f"{DEFAULT_TEXT_LIMIT:,}" in error["message"]


async def test_filters_are_no_longer_than_what_they_compare_with(api: Api, world: World) -> None:
    result = await _raw(api, world.admin, AUDIT, {"target": "x" * 201})
    error = _refused(result, "target")
    assert "the limit is 200" in error["message"]
    assert (await _raw(api, world.admin, AUDIT, {"target": "x" * 200})).errors == []


async def test_ids_have_their_own_limit(api: Api, world: World) -> None:
    result = await _raw(
        api, world.max, POST, {"project": "x" * (ID_MAX_LENGTH + 1), "body": "hello"}
    )
    _refused(result, "projectId")


async def test_lists_hold_at_most_the_list_limit(api: Api, world: World) -> None:
    # given: Max is mentioned, and so has a notification
    mention = {"project": gid(world.portal), "body": "@max please look"}
    assert (await _raw(api, world.sam, POST, mention)).errors == []
    inbox = await api("{ notifications { edges { node { id } } } }", as_user=world.max)
    ids = [inbox.data["notifications"]["edges"][0]["node"]["id"]] * MAX_LIST_ITEMS
    # when / then
    marked = await _raw(api, world.max, MARK_READ, {"ids": ids})
    assert marked.data == {"markNotificationsRead": {"marked": 1}}
    error = _refused(
        await _raw(api, world.max, MARK_READ, {"ids": [*ids, ids[0]]}), "notificationIds"
    )
    assert f"more than {MAX_LIST_ITEMS} items" in error["message"]
    invited = {"customer": gid(world.acme), "email": "new@acme.example", "projects": [*ids, ids[0]]}
    _refused(await _raw(api, world.anna, INVITE, invited), "projectIds")


async def test_a_long_list_is_refused_without_coercing_every_item(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the values the check coerces are seen
    coerced: list[dict[str, Any]] = []
    coerce = get_variable_values

    def seen(schema: Any, definitions: Any, values: dict[str, Any], **options: Any) -> Any:
        coerced.append(values)
        return coerce(schema, definitions, values, **options)

    monkeypatch.setattr("graphql_schema.inputs.get_variable_values", seen)
    # when: 100,000 IDs (1.9 MB, within the body limit)
    ids = [gid(world.portal_post)] * 100_000
    result = await _raw(api, world.max, MARK_READ, {"ids": ids})
    # then
    _refused(result, "notificationIds")
    assert [len(values["ids"]) for values in coerced] == [MAX_LIST_ITEMS + 1]


async def test_an_input_with_50000_unknown_fields_is_refused_promptly(
    api: Api, world: World
) -> None:
    # reporting each unknown field took quadratic time: 10,000 took 16 s, 50,000 six minutes
    query = (
        "mutation ($i: MarkNotificationsReadInput!) { markNotificationsRead(input: $i) { marked } }"
    )
    fields = {f"field{n}": n for n in range(50_000)}
    started = time.monotonic()
    result = await _raw(api, world.max, query, {"i": fields})
    assert time.monotonic() - started < 10
    assert result.data is None
    assert set(result.codes) == {"BAD_USER_INPUT"}
    assert 1 <= len(result.errors) <= 11  # ten, and one saying there were more


# --- request size ---------------------------------------------------------------------


def _too_large(response: httpx.Response, maximum: int) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "limit": "bodyBytes",
        "maximum": maximum,
    }


async def test_200000_notification_ids_are_refused_unread(api: Api, world: World) -> None:
    ids = [gid(world.portal_post)] * 200_000
    response = await api.client.post(
        "/graphql",
        json={"query": MARK_READ, "variables": {"ids": ids}},
        headers={"Authorization": f"Bearer {api.token_for(world.max)}"},
    )
    _too_large(response, api.settings.max_body_bytes)


async def test_100000_invited_project_ids_are_refused(api: Api, world: World) -> None:
    variables = {
        "customer": gid(world.acme),
        "email": "new@acme.example",
        "projects": [gid(world.portal)] * 100_000,
    }
    # 1.5 MB: within the body limit, over the list limit
    _refused(await _raw(api, world.anna, INVITE, variables), "projectIds")
    assert not await User.filter(email="new@acme.example").exists()


async def test_a_30_mb_body_is_refused_by_its_length_before_it_is_read(
    app: Starlette, api: Api
) -> None:
    # given: a body that says 30 MB and sends 10 bytes: the answer cannot wait for the rest
    sent: list[dict[str, Any]] = []
    received = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        received += 1
        if received > 1:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": b'{"query":', "more_body": True}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"31457280")],
        "client": ("203.0.113.7", 50000),
        "server": ("testserver", 80),
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }
    # when
    await app(scope, receive, send)
    # then
    assert received == 0
    assert sent[0]["status"] == 413
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body["errors"][0]["extensions"]["limit"] == "bodyBytes"


async def test_a_streamed_body_is_read_only_up_to_the_limit(app: Starlette, api: Api) -> None:
    limit = api.settings.max_body_bytes
    chunk = b"x" * 65_536
    chunks = 0

    async def stream() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        nonlocal chunks
        while chunks < 30 * 16:  # 30 MB, if it were all read
            chunks += 1
            yield chunk

    response = await api.client.post(
        "/graphql", content=stream(), headers={"Content-Type": "application/json"}
    )
    _too_large(response, limit)
    assert chunks * len(chunk) <= limit + 2 * len(chunk)


async def test_a_websocket_message_over_the_limit_closes_the_socket(
    app: Starlette, api: Api, world: World
) -> None:
    limit = api.settings.max_body_bytes
    async with serve(app) as address, GraphQLSocket.open(address, api.token_for(world.max)) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("1", TIMELINE, {"p": gid(world.portal), "after": "x" * limit})
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await sock.receive()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


# --- lists the database is asked about ------------------------------------------------


async def _inbox_size(api: Api, user: User) -> int:
    inbox = await api("{ notifications { edges { node { id } } } }", as_user=user)
    return len(inbox.data["notifications"]["edges"])


async def test_long_id_lists_are_asked_in_batches(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: one value per SQL IN list, so that every list the work needs is split
    monkeypatch.setattr(_common, "IN_LIST_MAX", 1)
    await api(
        "mutation ($p: ID!) { watch(input: { targetId: $p, level: WATCHING }) { __typename } }",
        {"p": gid(world.portal)},
        as_user=world.olivia,
    )
    concerned = (world.max, world.anna, world.olivia)
    before = [await _inbox_size(api, user) for user in concerned]
    # when: a post that mentions two readers, on a project a third watches
    body = {"project": gid(world.portal), "body": "@max and @anna: #rollout #portal"}
    assert (await _raw(api, world.sam, POST, body)).errors == []
    # then: each of them hears of it
    after = [await _inbox_size(api, user) for user in concerned]
    assert after == [n + 1 for n in before]
    assert list(_common.batches([1, 2, 3], 2)) == [[1, 2], [3]]


async def test_a_defect_in_the_check_refuses_with_a_reference_and_no_internal_text(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    def broken(*_args: Any) -> list[Any]:
        raise TypeError("secret internals")

    monkeypatch.setattr(inputs, "argument_errors", broken)
    # when
    result = await _raw(api, world.max, POST, {"project": gid(world.portal), "body": "hello"})
    # then: nothing ran, and the answer is coded
    assert result.data is None
    [error] = result.errors
    assert error["extensions"]["code"] == "INTERNAL"
    assert "reference" in error["extensions"]
    assert "secret" not in error["message"]


async def test_a_document_with_an_unpaired_surrogate_is_the_clients_error(
    api: Api, world: World
) -> None:
    result = await _raw(api, world.max, "{ me { name } } # \ud800", {})
    assert result.data is None
    assert result.codes == ["BAD_USER_INPUT"]
    assert "surrogate" in result.errors[0]["message"]
    assert "codec" not in result.errors[0]["message"]


async def test_an_exception_in_any_check_answers_internal_without_its_text(
    api: Api, production_api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a check that fails unexpectedly
    def broken(_self: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(inputs.CheckedInputs, "on_validate", broken)
    # when
    result = await production_api("{ me { name } }", as_user=world.max)
    # then
    [error] = result.errors
    assert error["extensions"]["code"] == "INTERNAL"
    assert "reference" in error["extensions"]
    assert "secret" not in error["message"]
    # while a developer sees what failed
    [error] = (await api("{ me { name } }", as_user=world.max)).errors
    assert error["extensions"]["code"] == "INTERNAL"
    assert "secret internals" in error["message"]


# --- names and titles other people read -------------------------------------------------

NAMED = {
    "createCustomer": (
        "admin",
        """mutation ($name: String!) {
          createCustomer(input: { name: $name, slug: "named" }) { customer { name } }
        }""",
        {},
    ),
    "createProject": (
        "sam",
        """mutation ($customer: ID!, $name: String!) {
          createProject(input: { customerId: $customer, name: $name }) { project { name } }
        }""",
        {"customer": "acme"},
    ),
    "createPage": (
        "max",
        """mutation ($project: ID!, $name: String!) {
          createPage(input: { projectId: $project, title: $name }) { page { title } }
        }""",
        {"project": "portal"},
    ),
    "updatePage": (
        "max",
        """mutation ($page: ID!, $name: String!) {
          updatePage(input: { pageId: $page, baseRevision: 1, title: $name }) {
            page { title }
          }
        }""",
        {"page": "portal_page"},
    ),
    "inviteContact": (
        "anna",
        """mutation ($customer: ID!, $name: String!) {
          inviteContact(input: { customerId: $customer, email: "new@acme.example", name: $name }) {
            invitationToken
          }
        }""",
        {"customer": "acme"},
    ),
}


async def _name(api: Api, world: World, mutation: str, name: str) -> Result:
    who, query, refs = NAMED[mutation]
    variables: dict[str, Any] = {key: gid(getattr(world, ref)) for key, ref in refs.items()}
    return await _raw(api, getattr(world, who), query, {**variables, "name": name})


@pytest.mark.parametrize("mutation", sorted(NAMED))
@pytest.mark.parametrize(
    "name",
    [
        "Invoice\u202efdp.exe",  # right-to-left override
        "\u2066Board\u2069 minutes",  # isolates
        "Plan \u200fB",  # right-to-left mark
        "Two\nlines",
        "Tab\there",
        "Bell\x07",
        "Next\x85line",
        "Line\u2028separator",
    ],
)
async def test_names_and_titles_with_invisible_controls_are_refused(
    api: Api, world: World, mutation: str, name: str
) -> None:
    result = await _name(api, world, mutation, name)
    field = "title" if "Page" in mutation else "name"
    [error] = result.errors
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, error
    assert error["message"].startswith(f"{field} holds the invisible character U+")
    assert result.data == {mutation: None}


@pytest.mark.parametrize("mutation", sorted(NAMED))
async def test_names_in_any_script_with_joiners_are_kept(
    api: Api, world: World, mutation: str
) -> None:
    name = "\u0645\u0647\u200c\u0631\u0627\u0646 \U0001f469\u200d\U0001f4bb \u00e9t\u00e9"
    result = await _name(api, world, mutation, name)
    assert result.errors == [], result.body
    payload = next(iter(result.data[mutation].values()))
    if mutation != "inviteContact":
        assert next(iter(payload.values())) == name


@pytest.mark.parametrize("email", ["ann\u202egro@acme.example", "ann\x07@acme.example"])
async def test_an_invited_address_with_invisible_controls_is_refused(
    api: Api, world: World, email: str
) -> None:
    result = await _raw(api, world.anna, INVITE, {"customer": gid(world.acme), "email": email})
    [error] = result.errors
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "email"}, error
    assert not await Invitation.filter(email__startswith="ann").exists()
