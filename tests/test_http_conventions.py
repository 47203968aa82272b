"""GraphQL over HTTP as third-party clients use it (app/graphql_http.py): queries and
persisted-query hashes over GET (urql's default, Apollo's ``useGETForHashedQueries``, Apollo
Kotlin's persisted queries), never a mutation over GET, no state change from a body a
browser page may send without asking (CSRF), ``application/graphql-response+json`` with its
status codes, malformed requests answered with JSON errors, CORS for configured sites,
GraphiQL from the server's own files, and The Guild's ``graphql-http`` audit with no error
and no warning in development and production."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from app.main import create_app
from infra.settings import PROJECT_ROOT, SettingsError
from models import Micropost
from tests.conftest import Api, gid, make_settings
from tests.live import serve
from tests.services import in_ci
from tests.world import World

GRAPHQL_RESPONSE = "application/graphql-response+json"
AUDIT_DIR = PROJECT_ROOT / "tests" / "http_audit"
POST_TO_PORTAL = """mutation Post($project: ID!, $body: String!) {
  postMicropost(input: {projectId: $project, body: $body}) { micropost { id } }
}"""
PROJECT = "query Project($id: ID!) { project(id: $id) { name status } }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(text)}}


def bearer(api: Api, world: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token_for(world.max)}"}


def over_get(**params: Any) -> dict[str, str]:
    """URL parameters as clients send them: variables and extensions as JSON."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}


def refused(response: httpx.Response, status: int, reason: str) -> dict[str, Any]:
    """A JSON GraphQL error (never text/plain), with the security headers."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["reason"] == reason, error
    assert error["message"]
    return error  # type: ignore[no-any-return]


# --- queries over GET ---------------------------------------------------------------------


async def test_a_query_over_get_answers_as_it_does_over_post(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    # given: urql's default (preferGetMethod: 'within-url-limit')
    variables = {"id": gid(world.portal)}
    # when
    got = await client.get(
        "/graphql",
        params=over_get(query=PROJECT, operationName="Project", variables=variables),
        headers=bearer(api, world),
    )
    posted = await client.post(
        "/graphql", json={"query": PROJECT, "variables": variables}, headers=bearer(api, world)
    )
    # then
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("application/json")
    assert got.json()["data"] == posted.json()["data"]
    assert got.json()["data"]["project"]["name"] == world.portal.name


@pytest.mark.parametrize("registration", ["GET", "POST"])
async def test_a_hash_only_query_over_get_runs_once_its_text_was_sent(
    client: httpx.AsyncClient, api: Api, world: World, registration: str
) -> None:
    # given: a document the server has not seen (Apollo's useGETForHashedQueries sends the
    # text over POST after a miss; urql's persisted exchange and Apollo Kotlin over GET)
    text = f"query Mine{secrets.token_hex(4)} {{ me {{ name }} }}"
    hashed = over_get(extensions=persisted(text))
    # when
    miss = await client.get("/graphql", params=hashed, headers=bearer(api, world))
    if registration == "GET":
        sent = await client.get(
            "/graphql",
            params=over_get(query=text, extensions=persisted(text)),
            headers=bearer(api, world),
        )
    else:
        sent = await client.post(
            "/graphql",
            json={"query": text, "extensions": persisted(text)},
            headers=bearer(api, world),
        )
    hit = await client.get("/graphql", params=hashed, headers=bearer(api, world))
    # then
    assert miss.status_code == 200
    assert [e["extensions"]["code"] for e in miss.json()["errors"]] == ["PERSISTED_QUERY_NOT_FOUND"]
    assert sent.json() == {"data": {"me": {"name": world.max.name}}, **_cost(sent)}
    assert hit.status_code == 200, hit.text
    assert hit.json()["data"] == {"me": {"name": world.max.name}}


def _cost(response: httpx.Response) -> dict[str, Any]:
    extensions = response.json().get("extensions")
    return {"extensions": extensions} if extensions is not None else {}


async def test_in_registered_mode_a_registered_hash_runs_over_get_and_others_are_refused(
    app: Starlette, api: Api, world: World
) -> None:
    # given: the server as EXTRANET_PERSISTED_QUERIES=registered makes it
    settings = make_settings(
        app.state.settings.database_url, EXTRANET_PERSISTED_QUERIES="registered"
    )
    inbox = (PROJECT_ROOT / "clients" / "operations" / "Inbox.graphql").read_text()
    adhoc = f"query Mine{secrets.token_hex(4)} {{ me {{ name }} }}"
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        # when
        registered = await client.get(
            "/graphql",
            params=over_get(operationName="Inbox", extensions=persisted(inbox)),
            headers=bearer(api, world),
        )
        unregistered = [
            await client.get(
                "/graphql",
                params=over_get(**params),
                headers={**bearer(api, world), "Accept": GRAPHQL_RESPONSE},
            )
            for params in (
                {"query": adhoc},
                {"query": adhoc, "extensions": persisted(adhoc)},
                {"extensions": persisted(adhoc)},
            )
        ]
    # then
    assert registered.status_code == 200, registered.text
    assert "errors" not in registered.json()
    assert registered.json()["data"]["notifications"]["totalCount"] >= 0
    text, text_and_hash, hash_only = unregistered
    for response in (text, text_and_hash):
        assert response.status_code == 403, response.text
        assert "data" not in response.json()
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN"
    # an unknown hash asks for the text, which is then refused as above
    assert hash_only.status_code == 404, hash_only.text
    assert hash_only.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_mutation_is_never_run_over_get(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    # given
    variables = {"project": gid(world.portal), "body": "Sent over GET"}
    before = await Micropost.all().count()
    # when: the text, the text with its hash, and the hash of one that ran over POST
    as_text = await client.get(
        "/graphql",
        params=over_get(query=POST_TO_PORTAL, variables=variables),
        headers=bearer(api, world),
    )
    with_hash = await client.get(
        "/graphql",
        params=over_get(
            query=POST_TO_PORTAL, variables=variables, extensions=persisted(POST_TO_PORTAL)
        ),
        headers=bearer(api, world),
    )
    remembered = await client.post(
        "/graphql", json={"extensions": persisted(POST_TO_PORTAL)}, headers=bearer(api, world)
    )
    posted = await client.post(
        "/graphql",
        json={
            "query": POST_TO_PORTAL,
            "variables": variables,
            "extensions": persisted(POST_TO_PORTAL),
        },
        headers=bearer(api, world),
    )
    hash_only = await client.get(
        "/graphql",
        params=over_get(variables=variables, extensions=persisted(POST_TO_PORTAL)),
        headers={**bearer(api, world), "Accept": GRAPHQL_RESPONSE},
    )
    # then
    for response in (as_text, with_hash):
        refused(response, 405, "METHOD_NOT_ALLOWED")
    assert hash_only.status_code == 405, hash_only.text
    assert hash_only.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert hash_only.json()["errors"][0]["extensions"]["reason"] == "METHOD_NOT_ALLOWED"
    for response in (as_text, with_hash, hash_only):
        assert response.headers["allow"] == "POST"
    # the GET with text and hash stored nothing: the hash alone was unknown until the POST
    assert remembered.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert posted.json()["data"]["postMicropost"]["micropost"]["id"]
    assert await Micropost.all().count() == before + 1  # the POST's post, and no other


async def test_a_subscription_over_http_is_refused_with_a_json_error(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    document = 'subscription { projectTimeline(projectId: "x") { __typename } }'
    got = await client.get("/graphql", params={"query": document}, headers=bearer(api, world))
    posted = await client.post("/graphql", json={"query": document}, headers=bearer(api, world))
    for response in (got, posted):
        error = refused(response, 400, "SUBSCRIPTION_OVER_HTTP")
        assert "websocket" in error["message"]


# --- CSRF: no state change from a body a page of another site may send --------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        None,
    ],
)
async def test_a_post_with_a_simple_content_type_changes_nothing(
    client: httpx.AsyncClient, api: Api, world: World, content_type: str | None
) -> None:
    # given: what a form or fetch() of another site sends without a preflight
    body = json.dumps(
        {"query": POST_TO_PORTAL, "variables": {"project": gid(world.portal), "body": "CSRF"}}
    )
    headers = bearer(api, world)
    if content_type is not None:
        headers["Content-Type"] = content_type
    before = await Micropost.all().count()
    # when
    response = await client.post("/graphql", content=body, headers=headers)
    # then
    refused(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert await Micropost.all().count() == before


async def test_the_products_clients_json_posts_are_accepted(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    # given: clients/web (fetch, "content-type": "application/json"), clients/python (httpx)
    variables = {"project": gid(world.portal), "body": "From our own client"}
    body = json.dumps({"query": POST_TO_PORTAL, "variables": variables})
    # when
    for content_type in ("application/json", "application/json; charset=utf-8"):
        response = await client.post(
            "/graphql", content=body, headers={**bearer(api, world), "Content-Type": content_type}
        )
        # then
        assert response.status_code == 200, response.text
        assert response.json()["data"]["postMicropost"]["micropost"]["id"]


# --- media types and status codes --------------------------------------------------------

REFUSED_BEFORE_EXECUTION = {
    "syntax": ({"query": "{ me { "}, "BAD_USER_INPUT"),
    "validation": ({"query": "{ noSuchField }"}, "BAD_USER_INPUT"),
    "aliases over the limit": (
        {"query": "{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }"},
        "BAD_USER_INPUT",
    ),
    "variable coercion": (
        {"query": "query P($id: ID!) { project(id: $id) { name } }", "variables": {"id": None}},
        "BAD_USER_INPUT",
    ),
    "unknown persisted query": (
        {"extensions": persisted("{ never sent }")},
        "PERSISTED_QUERY_NOT_FOUND",
    ),
}


@pytest.mark.parametrize("case", REFUSED_BEFORE_EXECUTION)
async def test_graphql_response_json_answers_a_request_that_never_ran_with_4xx_and_no_data(
    client: httpx.AsyncClient, api: Api, world: World, case: str
) -> None:
    # given
    body, code = REFUSED_BEFORE_EXECUTION[case]
    # when
    modern = await client.post(
        "/graphql", json=body, headers={**bearer(api, world), "Accept": GRAPHQL_RESPONSE}
    )
    legacy = await client.post(
        "/graphql", json=body, headers={**bearer(api, world), "Accept": "application/json"}
    )
    # then
    assert modern.status_code == (404 if code == "PERSISTED_QUERY_NOT_FOUND" else 400)
    assert modern.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in modern.json()
    assert modern.json()["errors"][0]["extensions"]["code"] == code
    assert legacy.status_code == 200  # application/json: 200 for every well-formed request
    assert legacy.headers["content-type"].startswith("application/json")
    assert legacy.json()["data"] is None
    assert legacy.json()["errors"][0]["extensions"]["code"] == code


async def test_graphql_response_json_answers_200_with_data_once_execution_started(
    client: httpx.AsyncClient,
) -> None:
    # when: a field error (nobody signed in), and a plain success
    field_error = await client.post(
        "/graphql", json={"query": "{ me { name } }"}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    success = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    # then
    assert field_error.status_code == 200
    assert field_error.json()["data"] == {"me": None}
    assert field_error.json()["errors"][0]["path"] == ["me"]
    assert field_error.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert success.status_code == 200
    assert success.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert success.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),  # Apollo Client 4
        (f"{GRAPHQL_RESPONSE}, application/json, multipart/mixed", GRAPHQL_RESPONSE),  # urql
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "application/json"),  # a browser tab
        (None, "application/json"),
    ],
)
async def test_the_answer_has_the_media_type_the_client_prefers(
    client: httpx.AsyncClient, accept: str | None, media_type: str
) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    response = await client.get("/graphql", params={"query": "{ __typename }"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert response.json()["data"] == {"__typename": "Query"}


async def test_a_client_that_accepts_no_json_is_told_so_in_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Accept": "text/plain"}
    )
    refused(response, 406, "NOT_ACCEPTABLE")


# --- malformed requests: JSON errors, never text/plain -------------------------------------

JSON_BODY = {"Content-Type": "application/json"}
MALFORMED: dict[str, tuple[str, dict[str, Any], int, str]] = {
    "body not JSON": (
        "POST",
        {"content": b'{ "not a JSON', "headers": JSON_BODY},
        400,
        "MALFORMED_JSON",
    ),
    "no body": ("POST", {"headers": JSON_BODY}, 400, "MALFORMED_JSON"),
    "body a string": (
        "POST",
        {"content": b'"{ __typename }"', "headers": JSON_BODY},
        400,
        "MALFORMED_REQUEST",
    ),
    "batch": ("POST", {"json": [{"query": "{ __typename }"}]}, 400, "BATCH"),
    "no query": ("POST", {"json": {"qeury": "{ __typename }"}}, 400, "NO_QUERY"),
    "query an object": ("POST", {"json": {"query": {"obj": "ect"}}}, 400, "MALFORMED_REQUEST"),
    "variables a list": (
        "POST",
        {"json": {"query": "{ __typename }", "variables": [1]}},
        400,
        "MALFORMED_REQUEST",
    ),
    "GET without query": ("GET", {"headers": {"Accept": "application/json"}}, 400, "NO_QUERY"),
    "GET variables not JSON": (
        "GET",
        {"params": {"query": "{ __typename }", "variables": "{nope"}},
        400,
        "MALFORMED_JSON",
    ),
    "PUT": ("PUT", {"json": {"query": "{ __typename }"}}, 405, "METHOD_NOT_ALLOWED"),
    "DELETE": ("DELETE", {}, 405, "METHOD_NOT_ALLOWED"),
    "PATCH": ("PATCH", {"json": {"query": "{ __typename }"}}, 405, "METHOD_NOT_ALLOWED"),
}


@pytest.mark.parametrize("case", MALFORMED)
async def test_a_malformed_request_is_answered_with_a_json_graphql_error(
    client: httpx.AsyncClient, case: str
) -> None:
    method, kwargs, status, reason = MALFORMED[case]
    response = await client.request(method, "/graphql", **kwargs)
    error = refused(response, status, reason)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    if status == 405:
        assert response.headers["allow"] == "GET, HEAD, POST"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/pages/UGFnZTox/attachments", "POST"),
        ("DELETE", "/attachments/QXR0YWNobWVudDox", "HEAD, GET"),
        ("POST", "/healthz", "HEAD, GET"),
        ("PUT", "/", "HEAD, GET"),
    ],
)
async def test_a_method_a_path_does_not_take_is_a_json_error_naming_those_it_does(
    client: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await client.request(method, path)
    error = refused(response, 405, "METHOD_NOT_ALLOWED")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    methods = set(allowed.split(", "))
    assert set(response.headers["allow"].split(", ")) == methods
    assert all(method in error["message"] for method in methods)


@pytest.mark.parametrize(
    "path", ["/graphq", "/api/graphql", "/assets/missing.js", "/graphiql/missing.js", "/%E2%80%AEx"]
)
async def test_a_path_nothing_is_served_at_is_a_json_not_found(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-content-type-options"] == "nosniff"
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "NOT_FOUND"}
    assert "/graphql" in error["message"]
    assert "\u202e" not in error["message"]  # the path is not repeated back


async def test_head_answers_what_get_would_without_a_body(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    query = over_get(query=PROJECT, variables={"id": gid(world.portal)})
    get = await client.get("/graphql", params=query, headers=bearer(api, world))
    head = await client.head("/graphql", params=query, headers=bearer(api, world))
    assert get.json()["data"]["project"]["name"] == world.portal.name
    assert (head.status_code, head.content) == (200, b"")
    for name in ("content-type", "content-length", "cache-control", "x-content-type-options"):
        assert head.headers[name] == get.headers[name], name
    # and a mutation is refused over HEAD as over GET: nothing is posted
    before = await Micropost.all().count()
    mutation = over_get(query=POST_TO_PORTAL, variables={"project": gid(world.portal), "body": "x"})
    refused_head = await client.head("/graphql", params=mutation, headers=bearer(api, world))
    assert (refused_head.status_code, refused_head.headers["allow"]) == (405, "POST")
    assert await Micropost.all().count() == before


# --- CORS ----------------------------------------------------------------------------------

PORTAL_SITE = "https://portal.example.com"


@pytest.fixture
async def cors_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A server that lets pages of PORTAL_SITE call it (its database is the test app's)."""
    settings = make_settings(
        app.state.settings.database_url, EXTRANET_CORS_ALLOWED_ORIGINS=f"{PORTAL_SITE}"
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_a_configured_site_may_call_the_api_from_a_browser_page(
    cors_client: httpx.AsyncClient,
) -> None:
    # when
    allowed = await cors_client.options("/graphql", headers=preflight(PORTAL_SITE))
    call = await cors_client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": PORTAL_SITE}
    )
    # then
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == PORTAL_SITE
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in allowed.headers  # no cookies
    assert call.headers["access-control-allow-origin"] == PORTAL_SITE
    assert call.json()["data"] == {"__typename": "Query"}


async def test_another_site_may_not_call_the_api_from_a_browser_page(
    cors_client: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    # when
    other = await cors_client.options("/graphql", headers=preflight("https://evil.example"))
    call = await cors_client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://evil.example"}
    )
    unconfigured = await client.options("/graphql", headers=preflight(PORTAL_SITE))
    plain = await client.options("/graphql")
    # then
    for response in (other, unconfigured):
        error = refused(response, 400, "CORS_REFUSED")
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in call.headers
    assert plain.status_code == 204  # OPTIONS without CORS is not a 405 any more
    assert plain.headers["allow"] == "GET, HEAD, POST, OPTIONS"


def test_cors_origins_default_to_the_websocket_origins_and_are_checked() -> None:
    ws_only = make_settings("sqlite://:memory:", EXTRANET_WS_ALLOWED_ORIGINS=PORTAL_SITE)
    both = make_settings(
        "sqlite://:memory:",
        EXTRANET_WS_ALLOWED_ORIGINS=PORTAL_SITE,
        EXTRANET_CORS_ALLOWED_ORIGINS="https://a.example, https://b.example:8443",
    )
    assert ws_only.cors_allowed_origins == (PORTAL_SITE,)
    assert both.cors_allowed_origins == ("https://a.example", "https://b.example:8443")
    assert make_settings("sqlite://:memory:").cors_allowed_origins == ()
    with pytest.raises(SettingsError, match="EXTRANET_CORS_ALLOWED_ORIGINS"):
        make_settings("sqlite://:memory:", EXTRANET_CORS_ALLOWED_ORIGINS="portal.example.com")


# --- GraphiQL from the server's own files -------------------------------------------------

_REFERENCES = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def _graphiql_installed() -> None:
    if not (PROJECT_ROOT / "clients" / "graphiql" / "node_modules" / "graphiql").is_dir():
        reason = "GraphiQL's files are not installed (make web)"
        if in_ci():
            pytest.fail(f"{reason}; CI=true requires them")
        pytest.skip(reason)


async def test_graphiql_loads_only_scripts_the_server_serves(client: httpx.AsyncClient) -> None:
    # given
    _graphiql_installed()
    # when
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    # then
    assert page.status_code == 200
    assert "script-src 'self';" in page.headers["content-security-policy"]
    assert "http://" not in page.text
    assert "https://" not in page.text
    references = _REFERENCES.findall(page.text)
    scripts = [r for r in references if r.endswith(".js")]
    assert len(scripts) >= 4
    assert any(r.endswith(".css") for r in references)
    for reference in references:
        assert reference.startswith("/"), reference
        assert not reference.startswith("//"), reference
        asset = await client.get(reference)
        assert asset.status_code == 200, reference
        kind = "text/javascript" if reference.endswith(".js") else "text/css"
        assert asset.headers["content-type"].startswith(kind)
        assert len(asset.content) > 200


async def test_graphiql_and_its_files_are_not_served_in_production(app: Starlette) -> None:
    production = create_app(
        make_settings(
            app.state.settings.database_url, EXTRANET_ENV="production", EXTRANET_MAIL="off"
        )
    )
    transport = httpx.ASGITransport(app=production)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        script = await client.get("/graphiql/graphiql.min.js")
    assert page.status_code == 404
    assert page.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert script.status_code == 404


async def test_graphiql_shows_in_a_browser_that_reaches_nothing_but_the_server(
    app: Starlette,
) -> None:
    # given: a browser whose every request to another host fails (offline)
    _graphiql_installed()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if in_ci():
            pytest.fail("chromium is not installed; CI=true requires it")
        pytest.skip("chromium is not installed")
    from playwright.async_api import Route, async_playwright

    elsewhere: list[str] = []
    async with serve(app) as address, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium)
        try:
            page = await browser.new_page()

            async def offline(route: Route) -> None:
                if not route.request.url.startswith(f"http://{address}/"):
                    elsewhere.append(route.request.url)
                    await route.abort()
                else:
                    await route.continue_()

            await page.route("**/*", offline)
            # when
            await page.goto(f"http://{address}/graphql", wait_until="load")
            # then: GraphiQL's editor, not "Loading…"
            await page.wait_for_selector(".graphiql-container .graphiql-editors", timeout=20_000)
            assert "Loading…" not in await page.inner_text("body")
        finally:
            await browser.close()
    assert elsewhere == []


# --- the graphql-http audit ----------------------------------------------------------------


def _audit_installed() -> Path:
    """tests/http_audit's node_modules, installed with ``npm ci`` when missing or stale."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        if in_ci():
            pytest.fail("Node.js and npm are needed for the graphql-http audit; CI=true")
        pytest.skip("Node.js and npm are needed for the graphql-http audit")
    installed = AUDIT_DIR / "node_modules" / ".package-lock.json"
    lock = AUDIT_DIR / "package-lock.json"
    if not installed.is_file() or installed.stat().st_mtime < lock.stat().st_mtime:
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=AUDIT_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return AUDIT_DIR / "audit.mjs"


@pytest.mark.parametrize("environment", ["development", "production"])
async def test_the_graphql_http_audit_finds_no_error_and_no_warning(
    app: Starlette, environment: str
) -> None:
    # given
    script = _audit_installed()
    server = create_app(
        make_settings(
            app.state.settings.database_url, EXTRANET_ENV=environment, EXTRANET_MAIL="off"
        )
    )
    # when
    async with serve(server) as address:
        process = await asyncio.create_subprocess_exec(
            "node",
            str(script),
            f"http://{address}/graphql",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 300)
    # then
    assert process.returncode == 0, err.decode()
    results = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    assert len(results) > 50  # the whole audit ran
    failures = [r for r in results if r["status"] != "ok"]
    assert failures == []
