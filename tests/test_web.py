"""The web client's files as the application serves them (app/web.py); the client itself is
tested in a browser by tests/test_web_client.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from app.web import web_client_routes


@pytest.fixture
async def serve_dir(tmp_path: Path) -> AsyncIterator[tuple[Path, httpx.AsyncClient]]:
    app = Starlette(routes=web_client_routes(tmp_path))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield tmp_path, client


async def test_without_a_build_the_root_says_how_to_make_one(
    serve_dir: tuple[Path, httpx.AsyncClient],
) -> None:
    # given: no clients/web/dist
    _, client = serve_dir
    # when
    response = await client.get("/")
    # then
    assert response.status_code == 503
    assert "The web client is not built" in response.text
    assert "make web" in response.text
    # and its assets are simply not there
    assert (await client.get("/assets/app.js")).status_code == 404


async def test_the_built_page_and_assets_are_served_with_a_strict_policy(
    serve_dir: tuple[Path, httpx.AsyncClient],
) -> None:
    # given
    directory, client = serve_dir
    (directory / "assets").mkdir()
    (directory / "index.html").write_text('<!doctype html><script src="assets/app-X.js"></script>')
    (directory / "assets" / "app-X.js").write_text("console.log(1)")
    # when
    page = await client.get("/")
    script = await client.get("/assets/app-X.js")
    # then
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert script.status_code == 200
    assert "immutable" in script.headers["cache-control"]


async def test_nothing_outside_the_assets_directory_is_served(
    serve_dir: tuple[Path, httpx.AsyncClient],
) -> None:
    # given
    directory, client = serve_dir
    (directory / "assets").mkdir()
    (directory / "secret.txt").write_text("not for you")
    # when
    response = await client.get("/assets/../secret.txt")
    missing = await client.get("/assets/nope.js")
    # then
    assert "not for you" not in response.text
    assert missing.status_code == 404
    assert "immutable" not in missing.headers.get("cache-control", "")


async def test_the_application_serves_the_client_beside_the_api(client: httpx.AsyncClient) -> None:
    # the real app: `/` answers (the page or how to build it), the API still answers
    root = await client.get("/")
    health = await client.get("/healthz")
    assert root.status_code in (200, 503)
    assert "content-security-policy" in root.headers
    assert health.status_code == 200
