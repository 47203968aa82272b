"""What every HTTP answer tells browsers and caches (app/headers.py), and that reading a
page loads no image from another server (domain/markdown.py, the web client's CSP)."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from types import SimpleNamespace

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tortoise import connections

from app.main import create_app
from app.web import CONTENT_SECURITY_POLICY
from domain.markdown import render_markdown
from infra.settings import Settings
from models import Micropost, Page
from tests.conftest import Api, gid
from tests.live import serve
from tests.world import PASSWORD, World

LOGIN = """
mutation ($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken refreshToken }
}
"""


def _no_sniffing_no_storing(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff", response.url
    assert response.headers["cache-control"] == "no-store", response.url


async def test_login_and_every_api_answer_are_neither_sniffed_nor_stored(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    token = api.token_for(world.max)
    responses = [
        # login: tokens in the body
        await client.post(
            "/graphql",
            json={"query": LOGIN, "variables": {"email": "max@acme.example", "password": PASSWORD}},
        ),
        # a query, a refused one, one that does not parse, a body that is not JSON
        await client.post(
            "/graphql",
            json={"query": "{ me { email } }"},
            headers={"Authorization": f"Bearer {token}"},
        ),
        await client.post("/graphql", json={"query": "{ me { email } }"}),
        await client.post("/graphql", json={"query": "{ me { "}),
        await client.post("/graphql", content=b"[", headers={"Content-Type": "application/json"}),
        await client.get("/graphql", params={"query": "{ me { email } }"}),
        await client.get("/healthz"),
        # uploads, refused and accepted; a download link that opens nothing
        await client.post(f"/pages/{gid(world.portal_page)}/attachments", content=b"x"),
        await client.post(
            f"/pages/{gid(world.portal_page)}/attachments",
            params={"name": "notes.txt"},
            content=b"notes",
            headers={"Authorization": f"Bearer {token}"},
        ),
        await client.get("/attachments/QXR0YWNobWVudDox", params={"token": "x"}),
        # what no route answers
        await client.get("/no-such-thing"),
        await client.delete("/healthz"),
    ]
    login = responses[0].json()
    assert login["data"]["login"]["accessToken"]
    assert responses[1].json()["data"] == {"me": {"email": "max@acme.example"}}
    assert responses[8].status_code == 201
    for response in responses:
        _no_sniffing_no_storing(response)


async def test_a_download_keeps_its_own_caching_and_is_always_an_attachment(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    token = api.token_for(world.max)
    await client.post(
        f"/pages/{gid(world.portal_page)}/attachments",
        params={"name": "page.html"},
        content=b"<html><script>alert(1)</script></html>",
        headers={"Authorization": f"Bearer {token}"},
    )
    listed = await api(
        "query ($id: ID!) { page(id: $id) { attachments { downloadUrl } } }",
        {"id": gid(world.portal_page)},
        as_user=world.max,
    )
    [item] = listed.data["page"]["attachments"]
    download = await client.get(item["downloadUrl"])
    assert download.status_code == 200
    assert download.headers["cache-control"] == "private, no-store"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"].startswith("text/plain")
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["referrer-policy"] == "no-referrer"


@pytest.fixture
async def failing_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The application with one more route, which fails unexpectedly (no lifespan: the
    route touches nothing)."""
    application = create_app(settings)

    async def fail(_request: Request) -> Response:
        raise RuntimeError("an unexpected fault")

    application.router.routes.append(Route("/fail", fail))
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_an_unexpected_error_is_neither_sniffed_nor_stored(
    failing_client: httpx.AsyncClient,
) -> None:
    response = await failing_client.get("/fail")
    assert response.status_code == 500
    assert "an unexpected fault" not in response.text
    _no_sniffing_no_storing(response)


@pytest.mark.parametrize(
    ("path", "origin"),
    [("/graphql", "https://attacker.example"), ("/healthz", None), ("/no-such-thing", None)],
)
async def test_a_refused_websocket_upgrade_is_neither_sniffed_nor_stored(
    app: Starlette, path: str, origin: str | None
) -> None:
    # given a browser page of another site, or a path that takes no websocket
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Protocol": "graphql-transport-ws",
        **({"Origin": origin} if origin else {}),
    }
    async with serve(app) as address, httpx.AsyncClient(timeout=20) as http:
        # when it asks to open a websocket there
        response = await http.get(f"http://{address}{path}", headers=headers)
    # then the refusal is a typed JSON error with the headers of every answer
    assert response.status_code == 403
    _no_sniffing_no_storing(response)
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "FORBIDDEN"}


# -- images of other servers ---------------------------------------------------------------


def test_the_web_client_loads_images_only_from_its_own_server() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["img-src"] == "'self' data:"
    assert "https:" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        (
            "![pixel](https://tracker.example/p.gif?reader=1)",
            '<p><a href="https://tracker.example/p.gif?reader=1" '
            'rel="nofollow noopener noreferrer ugc">pixel</a></p>',
        ),
        (
            "![](//tracker.example/p.gif)",
            '<p><a href="//tracker.example/p.gif" rel="nofollow noopener noreferrer ugc">'
            "//tracker.example/p.gif</a></p>",
        ),
        (
            "![<b>logo</b>](HTTP://tracker.example/l.png)",
            '<p><a href="HTTP://tracker.example/l.png" rel="nofollow noopener noreferrer ugc">'
            "&lt;b&gt;logo&lt;/b&gt;</a></p>",
        ),
        (
            "[![badge](https://tracker.example/b.svg)](https://example.org)",
            '<p><a href="https://example.org" rel="nofollow noopener noreferrer ugc">badge</a></p>',
        ),
        ("![plan](/assets/plan.png)", '<p><img src="/assets/plan.png" alt="plan"></p>'),
        ("![plan](plan.png)", '<p><img src="plan.png" alt="plan"></p>'),
    ],
)
def test_an_image_of_another_server_becomes_a_link(markdown: str, html: str) -> None:
    assert render_markdown(markdown).strip() == html


async def test_a_page_with_a_tracking_pixel_shows_a_link_instead(
    api: Api, world: World, app: Starlette
) -> None:
    # when sam writes a page with an image from another server
    created = await api(
        """mutation ($project: ID!) { createPage(input: {projectId: $project, title: "Logos",
        body: "Our logo: ![logo](https://tracker.example/logo.png)"}) { page { bodyHtml } } }""",
        {"project": gid(world.portal)},
        as_user=world.sam,
    )
    # then readers' browsers are not sent there: the image is a link to follow
    assert created.errors == []
    html = created.data["createPage"]["page"]["bodyHtml"]
    assert "<img" not in html
    assert 'href="https://tracker.example/logo.png"' in html


async def test_pages_and_posts_rendered_before_show_such_images_as_links_once_migrated(
    world: World,
) -> None:
    # given a page and a post whose HTML was stored when remote images were shown
    body = "Our logo: ![logo](https://tracker.example/logo.png) ![plan](/plan.png)"
    old_html = '<p>Our logo: <img src="https://tracker.example/logo.png" alt="logo"></p>'
    await Page.filter(id=world.portal_page.id).update(body=body, body_html=old_html)
    await Micropost.filter(id=world.portal_post.id).update(body=body, body_html=old_html)
    # when the migration runs
    migration = importlib.import_module("models.migrations.0012_attachment_lifecycle")
    client = connections.get("default")
    editor = SimpleNamespace(client=client, DIALECT=client.capabilities.dialect)
    await migration.images_as_links(None, editor)
    # then both show a link where the image was, and their own server's image stays
    for row in (
        await Page.get(id=world.portal_page.id),
        await Micropost.get(id=world.portal_post.id),
    ):
        assert row.body_html == render_markdown(body)
        assert 'href="https://tracker.example/logo.png"' in row.body_html
        assert '<img src="/plan.png" alt="plan">' in row.body_html
