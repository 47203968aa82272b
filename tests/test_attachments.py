"""Files on concept pages: upload over HTTP with versions, a size limit and a sniffed
content type; names cleaned of controls; uploads bounded by a rate and quotas; deletion by
the uploader or staff who may write; download only through a short-lived link made for one
reader who may still read the page; another customer's attachment is NOT_FOUND everywhere;
the quote is found by searching for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette

from app.files import content_disposition
from domain.tokens import DownloadKind, issue_download_token
from graphql_schema.relay import decode_global_id
from infra.storage import DirectoryStorage
from models import Attachment, AuditEntry, Page, ProjectMembership, User
from tests.conftest import TEST_SESSION, Api, gid
from tests.world import World

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
SIXTY = (PDF * 2)[:60]  # a file of 60 bytes
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
        "attachment; filename=\"Quote 2026.pdf\"; filename*=UTF-8''Quote%202026.pdf"
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
    kind = DownloadKind.ATTACHMENT
    link = f"/attachments/{gid(attachment)}"
    for token in (
        issue_download_token(
            app.state.settings, world.gina.id, TEST_SESSION, attachment.id, kind=kind
        ),
        issue_download_token(
            app.state.settings, world.gina.id, TEST_SESSION, attachment.id + 1, kind=kind
        ),
        api.token_for(world.max),  # an access token is not a download link
        "",
    ):
        response = await client.get(link, params={"token": token})
        assert response.status_code == 404
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # a link made for max does not open another attachment
    other = issue_download_token(
        app.state.settings, world.max.id, TEST_SESSION, attachment.id, kind=kind
    )
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


# -- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # shown as "invoiceexe.pdf" otherwise
        ("\u2066quote\u2069 \u202a2026\u202c.pdf", "quote 2026.pdf"),
        ("a\u200eb\u200f\u061cc.pdf", "abc.pdf"),
        ("tab\there\u2028and\x00nul.pdf", "tabhereandnul.pdf"),
        ("..\\..\\etc/passwd", "passwd"),
        ("Cafe\u0301\u00a0menu.pdf", "Caf\u00e9 menu.pdf"),  # NFC; a no-break space is a space
        ("\u0645\u06cc\u200c\u0634\u0648\u062f.pdf", "\u0645\u06cc\u200c\u0634\u0648\u062f.pdf"),
    ],
)
async def test_a_name_is_stored_as_people_read_it(
    client: httpx.AsyncClient, api: Api, world: World, given: str, stored: str
) -> None:
    # when sam uploads a file under a name with controls, folders or odd spaces
    response = await _upload(client, api, world.sam, world.portal_page, given, PDF)
    # then the name kept is what its characters really spell, everywhere
    assert response.status_code == 201
    assert response.json()["data"]["attachment"]["name"] == stored
    [item] = await _attachments(api, world.max, world.portal_page)
    assert item["name"] == stored
    download = await client.get(item["downloadUrl"])
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert disposition.isascii()
    assert disposition.endswith("filename*=UTF-8''" + quote(stored, safe=""))


@pytest.mark.parametrize(
    ("name", "disposition"),
    [
        ("報告.pdf", "filename=\"attachment.pdf\"; filename*=UTF-8''%E5%A0%B1%E5%91%8A.pdf"),
        (
            'a "b" 100%.pdf',
            "filename=\"a _b_ 100_.pdf\"; filename*=UTF-8''a%20%22b%22%20100%25.pdf",
        ),
        ("Grüße.txt", "filename=\"Grue.txt\"; filename*=UTF-8''Gr%C3%BC%C3%9Fe.txt"),
    ],
)
def test_a_download_names_the_file_for_every_client(name: str, disposition: str) -> None:
    # an ASCII name for old clients (no quote, backslash or percent sign), the exact one in
    # filename* for the others (RFC 6266, RFC 5987)
    assert content_disposition(name) == f"attachment; {disposition}"


async def test_names_that_are_nothing_but_controls_or_too_long_are_refused(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    for name in ("\u202e\u2066\u200f", "\x01\x02", "a" * 197 + ".pdf"):
        response = await _upload(client, api, world.sam, world.portal_page, name, PDF)
        assert response.status_code == 400, name
        assert response.json()["errors"][0]["extensions"] == {
            "code": "BAD_USER_INPUT",
            "field": "name",
        }
    assert await Attachment.all().count() == 0


async def test_a_name_stored_before_names_were_cleaned_is_shown_and_sent_clean(
    client: httpx.AsyncClient, api: Api, world: World, storage: DirectoryStorage
) -> None:
    # given a row written before the cleaning existed
    blob = await storage.put(_chunks(PDF), 1000)
    await storage.keep(blob)
    await Attachment.create(
        page_id=world.portal_page.id,
        name="invoice\u202efdp.exe",
        version=1,
        content_type="application/pdf",
        size=blob.size,
        content_key=blob.key,
        uploaded_by_id=world.sam.id,
    )
    # then
    [item] = await _attachments(api, world.max, world.portal_page)
    assert item["name"] == "invoicefdp.exe"
    download = await client.get(item["downloadUrl"])
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"invoicefdp.exe\"; filename*=UTF-8''invoicefdp.exe"
    )


async def _chunks(content: bytes) -> AsyncIterator[bytes]:
    yield content


# -- rate and quotas ---------------------------------------------------------------------


@pytest.fixture
def limits(app: Starlette) -> Iterator[Callable[..., None]]:
    """Set upload limits for one test: ``limits(attachment_uploads_per_minute=3)``."""
    settings = app.state.settings
    graphql = app.state.graphql

    def set_limits(**overrides: int) -> None:
        app.state.settings = graphql.settings = replace(settings, **overrides)

    yield set_limits
    app.state.settings = graphql.settings = settings


async def test_uploads_a_minute_are_limited_per_user(
    client: httpx.AsyncClient, api: Api, world: World, limits: Callable[..., None]
) -> None:
    # given at most three uploads a minute
    limits(attachment_uploads_per_minute=3)
    for n in range(3):
        response = await _upload(client, api, world.max, world.portal_page, f"{n}.pdf", PDF)
        assert response.status_code == 201
    # when max uploads a fourth
    refused = await _upload(client, api, world.max, world.portal_page, "3.pdf", PDF)
    # then he is told to wait, and for how long
    assert refused.status_code == 429
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 1 <= error["extensions"]["retryAfter"] <= 60
    assert refused.headers["retry-after"] == str(error["extensions"]["retryAfter"])
    assert await Attachment.filter(uploaded_by_id=world.max.id).count() == 3
    # and sam, another user, still uploads
    other = await _upload(client, api, world.sam, world.portal_page, "3.pdf", PDF)
    assert other.status_code == 201


async def test_deleting_a_file_does_not_make_room_in_the_rate(
    client: httpx.AsyncClient, api: Api, world: World, limits: Callable[..., None]
) -> None:
    # given two uploads a minute, and max uploaded a file and deleted it
    limits(attachment_uploads_per_minute=2)
    first = await _upload(client, api, world.max, world.portal_page, "a.pdf", PDF)
    deleted = await api(DELETE, {"id": first.json()["data"]["attachment"]["id"]}, as_user=world.max)
    assert deleted.errors == []
    # then he uploads one more file, and not a third
    second = await _upload(client, api, world.max, world.portal_page, "b.pdf", PDF)
    third = await _upload(client, api, world.max, world.portal_page, "c.pdf", PDF)
    assert (second.status_code, third.status_code) == (201, 429)
    assert third.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_a_users_uploads_stay_within_their_quota(
    client: httpx.AsyncClient,
    api: Api,
    world: World,
    storage: DirectoryStorage,
    limits: Callable[..., None],
) -> None:
    # given max may keep 100 bytes of files and has 60
    limits(attachment_user_quota_bytes=100)
    kept = await _upload(client, api, world.max, world.portal_page, "a.pdf", SIXTY)
    assert kept.status_code == 201
    # when he uploads 60 more, declared or sent in chunks
    declared = await _upload(client, api, world.max, world.portal_page, "b.pdf", SIXTY[:-1] + b"x")

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(6):
            yield b"0123456789"

    chunked = await client.post(
        f"/pages/{gid(world.portal_page)}/attachments",
        params={"name": "c.txt"},
        content=chunks(),
        headers={"Authorization": f"Bearer {api.token_for(world.max)}"},
    )
    # then both are refused with what is used of how much, and nothing of them is kept
    for refused in (declared, chunked):
        assert refused.status_code == 413
        assert refused.json()["errors"][0]["extensions"] == {
            "code": "BAD_USER_INPUT",
            "field": "file",
            "quota": "user",
            "quotaBytes": 100,
            "usedBytes": 60,
        }
    assert await Attachment.all().count() == 1
    assert len(_stored(storage)) == 1
    # and sam, another user, still uploads 60 bytes
    other = await _upload(client, api, world.sam, world.portal_page, "b.pdf", SIXTY)
    assert other.status_code == 201
    # and once max deletes his file, the new one fits
    result = await api(DELETE, {"id": kept.json()["data"]["attachment"]["id"]}, as_user=world.max)
    assert result.errors == []
    fits = await _upload(client, api, world.max, world.portal_page, "b.pdf", SIXTY[:-1] + b"x")
    assert fits.status_code == 201


async def test_uploads_sent_at_once_do_not_overrun_the_quota_or_the_rate(
    client: httpx.AsyncClient,
    api: Api,
    world: World,
    storage: DirectoryStorage,
    limits: Callable[..., None],
) -> None:
    # given room for one file of 60 bytes, and for three uploads a minute
    limits(attachment_user_quota_bytes=100, attachment_uploads_per_minute=3)
    # when max sends five different 60-byte files at once, twice
    files = [SIXTY[:-2] + bytes([65 + n, 10]) for n in range(5)]
    sent = await asyncio.gather(
        *(
            _upload(client, api, world.max, world.portal_page, f"{n}.txt", f)
            for n, f in enumerate(files)
        )
    )
    # then one is kept and the others are refused for the quota, with nothing left of them
    assert sorted(r.status_code for r in sent) == [201, 413, 413, 413, 413]
    assert await Attachment.all().count() == 1
    assert len(_stored(storage)) == 1
    # and with room enough, only three of five get through the rate
    limits(attachment_uploads_per_minute=3)
    await Attachment.all().delete()
    sent = await asyncio.gather(
        *(
            _upload(client, api, world.sam, world.portal_page, f"{n}.txt", f)
            for n, f in enumerate(files)
        )
    )
    assert sorted(r.status_code for r in sent) == [201, 201, 201, 429, 429]


async def test_a_customers_files_stay_within_its_quota(
    client: httpx.AsyncClient, api: Api, world: World, limits: Callable[..., None]
) -> None:
    # given Acme's pages may hold 100 bytes of files and hold 60
    limits(attachment_customer_quota_bytes=100)
    first = await _upload(client, api, world.sam, world.portal_page, "a.pdf", SIXTY)
    assert first.status_code == 201
    # when max uploads 60 more
    refused = await _upload(client, api, world.max, world.portal_page, "b.pdf", SIXTY)
    # then
    assert refused.status_code == 413
    assert refused.json()["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "file",
        "quota": "customer",
        "quotaBytes": 100,
        "usedBytes": 60,
    }
    # and Globex's pages are another customer's
    globex = await _upload(client, api, world.gina, world.loyalty_page, "b.pdf", SIXTY)
    assert globex.status_code == 201


# -- deletion ----------------------------------------------------------------------------

DELETE = """
mutation ($id: ID!) {
  deleteAttachment(input: {attachmentId: $id}) {
    deletedAttachmentId
    page { attachments { name version } }
  }
}
"""


async def test_the_uploader_deletes_their_file_and_every_trace_of_it_goes(
    client: httpx.AsyncClient,
    api: Api,
    world: World,
    storage: DirectoryStorage,
    app: Starlette,
) -> None:
    # given max's quote, linked from the page's text, and a link to download it
    uploaded = await _upload(client, api, world.max, world.portal_page, "Quote.pdf", PDF)
    quote_id = uploaded.json()["data"]["attachment"]["id"]
    [item] = await _attachments(api, world.max, world.portal_page)
    body = f"See [the quote](/attachments/{quote_id}) before Friday."
    await Page.filter(id=world.portal_page.id).update(body=body)
    # when he deletes it
    result = await api(DELETE, {"id": quote_id}, as_user=world.max)
    # then it is gone from the page, the storage, the search and the links
    assert result.errors == [], result.errors
    assert result.data["deleteAttachment"] == {
        "deletedAttachmentId": quote_id,
        "page": {"attachments": []},
    }
    assert await Attachment.all().count() == 0
    assert _stored(storage) == []
    found = await api('{ search(query: "quote") { totalCount } }', as_user=world.max)
    assert found.data["search"]["totalCount"] == 0
    gone = await client.get(item["downloadUrl"])
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    node = await api(
        "query ($id: ID!) { node(id: $id) { id } }", {"id": quote_id}, as_user=world.max
    )
    assert node.codes == ["NOT_FOUND"]
    # and the page's text still reads as it did
    page = await api(
        "query ($id: ID!) { page(id: $id) { body } }",
        {"id": gid(world.portal_page)},
        as_user=world.max,
    )
    assert page.data["page"]["body"] == body
    # and the deletion is on record
    entry = await AuditEntry.get(action="attachment.deleted")
    attachment_id = decode_global_id(quote_id, "Attachment")[1]
    assert (entry.actor_id, entry.target) == (world.max.id, f"attachment:{attachment_id}")
    assert entry.details["name"] == "Quote.pdf"


async def test_deleting_a_version_keeps_the_others_and_shared_content(
    client: httpx.AsyncClient, api: Api, world: World, storage: DirectoryStorage
) -> None:
    # given two versions of the offer, and the first version's content also on another name
    await _upload(client, api, world.sam, world.portal_page, "Offer.pdf", PDF)
    second = await _upload(client, api, world.sam, world.portal_page, "Offer.pdf", PDF + b"%2\n")
    await _upload(client, api, world.sam, world.portal_page, "Copy.pdf", PDF + b"%2\n")
    # when sam deletes the second version
    result = await api(DELETE, {"id": second.json()["data"]["attachment"]["id"]}, as_user=world.sam)
    # then the first is the offer again, found by search, and the copy's content is kept
    assert result.errors == []
    assert result.data["deleteAttachment"]["page"]["attachments"] == [
        {"name": "Copy.pdf", "version": 1},
        {"name": "Offer.pdf", "version": 1},
    ]
    assert len(_stored(storage)) == 2
    found = await api(
        '{ search(query: "offer") { edges { node { node { ... on Attachment { version } } } } } }',
        as_user=world.max,
    )
    assert [e["node"]["node"] for e in found.data["search"]["edges"]] == [{"version": 1}]
    [copy] = [
        a for a in await _attachments(api, world.max, world.portal_page) if a["name"] == "Copy.pdf"
    ]
    assert (await client.get(copy["downloadUrl"])).content == PDF + b"%2\n"


async def test_who_may_delete_an_attachment(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    # given a file max uploaded on Acme's portal page
    uploaded = await _upload(client, api, world.max, world.portal_page, "Order.pdf", PDF)
    order_id = uploaded.json()["data"]["attachment"]["id"]
    # then the lead contact (may write, did not upload it) and staff who may not write
    # there are refused; Globex's lead contact does not even find it
    for user in (world.anna, world.stan):
        refused = await api(DELETE, {"id": order_id}, as_user=user)
        assert refused.codes == ["FORBIDDEN"], user.email
    foreign = await api(DELETE, {"id": order_id}, as_user=world.gina)
    missing = await api(DELETE, {"id": gid(Attachment(id=10_000))}, as_user=world.gina)
    assert foreign.codes == missing.codes == ["NOT_FOUND"]
    assert foreign.errors[0]["message"] == missing.errors[0]["message"]
    anonymous = await api(DELETE, {"id": order_id})
    assert anonymous.codes == ["UNAUTHENTICATED"]
    assert await Attachment.all().count() == 1
    # and staff on Acme's account team may
    allowed = await api(DELETE, {"id": order_id}, as_user=world.sam)
    assert allowed.errors == []
    assert await Attachment.all().count() == 0


# -- download links ------------------------------------------------------------------------


async def test_a_download_link_stops_working_when_its_reader_loses_access(
    client: httpx.AsyncClient, api: Api, world: World
) -> None:
    # given links made for max (a member of the project) and for anna (the lead contact)
    await _upload(client, api, world.sam, world.portal_page, "Plan.pdf", PDF)
    [for_max] = await _attachments(api, world.max, world.portal_page)
    [for_anna] = await _attachments(api, world.anna, world.portal_page)
    # when max leaves the project and anna's account is deactivated
    await ProjectMembership.filter(user_id=world.max.id, project_id=world.portal.id).delete()
    await User.filter(id=world.anna.id).update(is_active=False)
    # then neither link opens the file any more, within its five minutes
    for link in (for_max["downloadUrl"], for_anna["downloadUrl"]):
        response = await client.get(link)
        assert response.status_code == 404
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # while a link made for a reader who still may read it works
    [for_sam] = await _attachments(api, world.sam, world.portal_page)
    assert (await client.get(for_sam["downloadUrl"])).status_code == 200


# -- the same content uploaded and deleted at once -----------------------------------------


async def _content(storage: DirectoryStorage, key: str) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key)])


async def test_content_deleted_while_an_upload_of_it_is_recorded_stays(
    storage: DirectoryStorage,
) -> None:
    # given an upload that stored its content and has not recorded it yet
    recorded = False

    async def still_used() -> bool:
        return recorded

    blob = await storage.put(_chunks(PDF), 1000)
    # when the deletion of the last other file with that content forgets it
    await storage.forget(blob.key, still_used)
    # and then the upload is recorded
    recorded = True
    await storage.keep(blob)
    # then its content is there, once, and no spare is left behind
    assert await _content(storage, blob.key) == PDF
    assert len(_stored(storage)) == 1


async def test_content_recorded_while_a_deletion_sets_it_aside_stays(
    storage: DirectoryStorage,
) -> None:
    blob = await storage.put(_chunks(PDF), 1000)
    answers = iter([False, True])

    async def recorded_right_after_the_first_look() -> bool:
        answer = next(answers)
        if not answer:  # the upload is recorded and kept just after the deletion looked
            await storage.keep(blob)
        return answer

    await storage.forget(blob.key, recorded_right_after_the_first_look)
    assert await _content(storage, blob.key) == PDF
    assert len(_stored(storage)) == 1


async def test_content_nothing_refers_to_is_removed(storage: DirectoryStorage) -> None:
    async def unused() -> bool:
        return False

    blob = await storage.put(_chunks(PDF), 1000)
    await storage.discard(blob, unused)
    assert _stored(storage) == []
