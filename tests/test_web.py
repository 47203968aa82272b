"""The web client's files as the application serves them (app/web.py); the client itself is
tested in a browser by tests/test_web_client.py."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from app.web import WEB_CLIENT_DIR, web_client_routes
from tests.services import in_ci


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


async def test_assets_arrive_gzipped_to_a_browser_that_accepts_it_and_decode_to_the_same_bytes(
    serve_dir: tuple[Path, httpx.AsyncClient],
) -> None:
    # given: a built script and the gzip copy the build writes beside it
    directory, client = serve_dir
    (directory / "assets").mkdir()
    script = b"export const words = " + b'"lorem ipsum dolor sit amet, ' * 200 + b'";\n'
    (directory / "assets" / "app-X.js").write_bytes(script)
    (directory / "assets" / "app-X.js.gz").write_bytes(gzip.compress(script))
    # when: a browser that accepts gzip asks, and one that does not
    packed = await client.get("/assets/app-X.js", headers={"Accept-Encoding": "gzip, br"})
    plain = await client.get("/assets/app-X.js", headers={"Accept-Encoding": "identity"})
    refused = await client.get("/assets/app-X.js", headers={"Accept-Encoding": "gzip;q=0"})
    # then: the first gets the small copy, which decodes to the script, as a script
    assert packed.status_code == 200
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) < len(script) / 5
    assert packed.content == script  # httpx decodes it
    assert packed.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "immutable" in packed.headers["cache-control"]
    assert packed.headers["x-content-type-options"] == "nosniff"
    # and the others the script itself; every answer tells caches it varies by encoding
    for response in (plain, refused):
        assert "content-encoding" not in response.headers
        assert response.content == script
        assert int(response.headers["content-length"]) == len(script)
    for response in (packed, plain, refused):
        assert response.headers["vary"] == "Accept-Encoding"
    # and a file without a gzip copy is sent as it is
    (directory / "assets" / "icon.png").write_bytes(b"\x89PNG")
    icon = await client.get("/assets/icon.png", headers={"Accept-Encoding": "gzip"})
    assert icon.content == b"\x89PNG"
    assert "content-encoding" not in icon.headers


async def test_the_built_client_script_is_served_gzipped(client: httpx.AsyncClient) -> None:
    # given: the web client as `make web` builds it
    index = WEB_CLIENT_DIR / "index.html"
    if not index.is_file():
        if in_ci():
            pytest.fail("the web client is not built (make web); CI=true requires it")
        pytest.skip("the web client is not built (make web)")
    [name] = re.findall(r'src="(assets/app-[^"]+\.js)"', index.read_text())
    # when
    response = await client.get(f"/{name}", headers={"Accept-Encoding": "gzip"})
    # then: compressed by the build, and the same script once decoded
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < (WEB_CLIENT_DIR / name).stat().st_size / 2
    assert response.content == (WEB_CLIENT_DIR / name).read_bytes()
