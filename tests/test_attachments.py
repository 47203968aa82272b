"""Files on concept pages: upload over HTTP with versions, a size limit and a sniffed
content type; download only through a short-lived link made for one reader; another
customer's attachment is NOT_FOUND everywhere; the quote is found by searching for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from app.storage import DirectoryStorage
from app.tokens import issue_download_token
from models import Attachment, AuditEntry, Page, User
from tests.conftest import Api, gid
from tests.world import World

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\x00" * 32


@pytest.fixture(autouse=True)
def storage(app: Starlette, tmp_path: Path) -> Iterator[DirectoryStorage]:
    """A store of this test's own, so that what it holds can be counted."""
    shared = app.state.storage
    app.state.storage = DirectoryStorage(tmp_path / "attachments")
    yield app.state.storage
    app.state.storage = shared


@pytest.fixture
def limited(app: Starlette) -> Iterator[None]:
    """Attachments of at most 100 bytes."""
    settings = app.state.settings
    app.state.settings = replace(settings, attachment_max_bytes=100)
    yield
    app.state.settings = settings


def _stored(storage: DirectoryStorage) -> list[Path]:
    return [p for p in storage.root.rglob("*") if p.is_file()]


ATTACHMENTS = """
query ($id: ID!) {
  page(id: $id) {
    attachments { id name version contentType size downloadUrl uploadedBy { handle }
      versions { version size } }
  }
}
"""


async def _upload(
    client: httpx.AsyncClient,
    api: Api,
    user: User | None,
    page: Page,
    name: str,
    content: bytes,
    **headers: str,
) -> httpx.Response:
    if user is not None:
        headers["Authorization"] = f"Bearer {api.token_for(user)}"
    return await client.post(
        f"/pages/{gid(page)}/attachments",
        params={"name": name},
        content=content,
        headers=headers,
    )


async def _attachments(api: Api, reader: User, page: Page) -> list[dict[str, Any]]:
    result = await api(ATTACHMENTS, {"id": gid(page)}, as_user=reader)
    assert result.errors == [], result.errors
    return list(result.data["page"]["attachments"])


async def test_a_quote_is_uploaded_versioned_and_downloaded(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    # when sam uploads a quote, then a corrected one under the same name
    first = await _upload(client, api, world.sam, world.portal_page, "Quote 2026.pdf", PDF)
    second = await _upload(
        client, api, world.sam, world.portal_page, "Quote 2026.pdf", PDF + b"% v2\n"
    )
    # then
    assert first.status_code == second.status_code == 201
    assert first.json()["data"]["attachment"]["version"] == 1
    assert second.json()["data"]["attachment"] | {"id": None} == {
        "id": None,
        "name": "Quote 2026.pdf",
        "version": 2,
        "contentType": "application/pdf",
        "size": len(PDF) + 5,
    }
    [quote] = await _attachments(api, world.max, world.portal_page)
    assert (quote["name"], quote["version"], quote["uploadedBy"]) == (
        "Quote 2026.pdf",
        2,
        {"handle": "sam"},
    )
    assert [v["version"] for v in quote["versions"]] == [2, 1]
    # and max downloads it through his link
    download = await client.get(quote["downloadUrl"])
    assert download.status_code == 200
    assert download.content == PDF + b"% v2\n"
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"] == (
        "attachment; filename*=UTF-8''Quote%202026.pdf"
    )


async def test_the_content_type_comes_from_the_content_not_the_client(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    cases = [
        ("logo.pdf", PNG, "image/png"),
        ("page.html", b"<html><script>alert(1)</script></html>", "text/plain"),
        ("notes.txt", "Grüße aus Köln\n".encode(), "text/plain"),
        ("blob.bin", bytes(range(256)) * 4, "application/octet-stream"),
    ]
    for name, content, expected in cases:
        response = await _upload(
            client,
            api,
            world.sam,
            world.portal_page,
            name,
            content,
            **{"Content-Type": "text/html"},
        )
        assert response.json()["data"]["attachment"]["contentType"] == expected, name


async def test_identical_content_is_stored_once(
    client: httpx.AsyncClient, api: Api, world: World, storage: DirectoryStorage
) -> None:
    await _upload(client, api, world.sam, world.portal_page, "a.pdf", PDF)
    await _upload(client, api, world.max, world.portal_page, "b.pdf", PDF)
    keys = {a.content_key for a in await Attachment.all()}
    assert len(keys) == 1
    assert len(_stored(storage)) == 1


@pytest.mark.usefixtures("limited")
async def test_bad_uploads_are_refused_and_leave_nothing(
    client: httpx.AsyncClient, api: Api, world: World, storage: DirectoryStorage
) -> None:
    too_big = await _upload(client, api, world.sam, world.portal_page, "big.pdf", PDF * 10)
    empty = await _upload(client, api, world.sam, world.portal_page, "empty.pdf", b"")
    nameless = await _upload(client, api, world.sam, world.portal_page, " / ", PDF)
    anonymous = await _upload(client, api, None, world.portal_page, "x.pdf", PDF)
    assert too_big.status_code == 413
    assert too_big.json()["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "file",
        "maxBytes": 100,
    }
    assert (empty.status_code, nameless.status_code, anonymous.status_code) == (400, 400, 401)
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await Attachment.all().count() == 0
    assert _stored(storage) == []


@pytest.mark.usefixtures("limited")
async def test_a_file_sent_in_chunks_past_the_limit_is_refused(
    client: httpx.AsyncClient, api: Api, world: World, storage: DirectoryStorage
) -> None:

    async def chunks() -> Any:  # no Content-Length: the limit is enforced while reading
        for _ in range(10):
            yield PDF

    response = await client.post(
        f"/pages/{gid(world.portal_page)}/attachments",
        params={"name": "big.pdf"},
        content=chunks(),
        headers={"Authorization": f"Bearer {api.token_for(world.sam)}"},
    )
    assert response.status_code == 413
    assert await Attachment.all().count() == 0
    assert _stored(storage) == []


async def test_who_may_upload(client: httpx.AsyncClient, api: Api, world: World) -> None:
    foreign = await _upload(client, api, world.gina, world.portal_page, "x.pdf", PDF)
    internal = await _upload(client, api, world.max, world.portal_internal_page, "x.pdf", PDF)
    reader_only = await _upload(client, api, world.stan, world.portal_page, "x.pdf", PDF)
    assert (foreign.status_code, internal.status_code) == (404, 404)
    assert foreign.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert reader_only.status_code == 403
    assert await Attachment.all().count() == 0


async def test_another_customers_attachment_is_not_found_everywhere(
    client: httpx.AsyncClient, api: Api, world: World, app: Starlette
) -> None:
    await _upload(client, api, world.sam, world.portal_page, "Acme order.pdf", PDF)
    attachment = await Attachment.get()
    # node(id) and search
    node = await api(
        "query ($id: ID!) { node(id: $id) { id } }", {"id": gid(attachment)}, as_user=world.gina
    )
    assert node.codes == ["NOT_FOUND"]
    found = await api('{ search(query: "order") { totalCount } }', as_user=world.gina)
    assert found.data["search"]["totalCount"] == 0
    # a download link made for somebody who may read it, used by gina
    link = f"/attachments/{gid(attachment)}"
    for token in (
        issue_download_token(app.state.settings, world.gina.id, attachment.id),
        issue_download_token(app.state.settings, world.gina.id, attachment.id + 1),
        api.token_for(world.max),  # an access token is not a download link
        "",
    ):
        response = await client.get(link, params={"token": token})
        assert response.status_code == 404
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # a link made for max does not open another attachment
    other = issue_download_token(app.state.settings, world.max.id, attachment.id)
    assert (
        await client.get(
            f"/attachments/{gid(Attachment(id=attachment.id + 1))}", params={"token": other}
        )
    ).status_code == 404


async def test_the_customer_finds_the_quote_by_searching_for_it(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    await _upload(client, api, world.sam, world.portal_page, "Quote warehouse racks.pdf", PDF)
    await _upload(client, api, world.sam, world.portal_page, "Quote warehouse racks.pdf", PDF)
    result = await api(
        """{ search(query: "racks quote") { edges { node { snippet node {
        __typename ... on Attachment { name version page { title } } } } } } }""",
        as_user=world.anna,
    )
    assert result.errors == []
    [hit] = [edge["node"]["node"] for edge in result.data["search"]["edges"]]
    assert hit == {
        "__typename": "Attachment",
        "name": "Quote warehouse racks.pdf",
        "version": 2,
        "page": {"title": "Acme booking concept"},
    }


async def test_downloading_an_internal_file_is_audited(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    await _upload(client, api, world.sam, world.portal_internal_page, "margins.pdf", PDF)
    [item] = await _attachments(api, world.stan, world.portal_internal_page)
    assert (await client.get(item["downloadUrl"])).status_code == 200
    entry = await AuditEntry.get(action="attachment.downloaded")
    assert entry.actor_id == world.stan.id
