"""The document library under hostile use: supersession that would loop, acknowledgements
out of sight or repeated, dates of validity given with any offset, and damaged or encrypted
office files, which are recorded as not extractable by the runner instead of failing it."""

from __future__ import annotations

import asyncio
import io
import struct
import threading
import time
import zipfile
import zlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from starlette.applications import Starlette

from actions import library_text
from domain import extraction
from domain.extraction import NotExtractable, extract_text
from models import DocumentAcknowledgement
from tests.conftest import Api, gid
from tests.graphql.test_library import ACKNOWLEDGE, DOCUMENT, VALIDITY, certificate, upload
from tests.test_library_extraction import docx_with_text, pdf_with_text
from tests.world import World

SUPERSEDE = """mutation($id: ID!, $by: ID!) { supersedeDocument(id: $id, byId: $by) {
  id state supersededBy { id } } }"""
LINKS = """query($id: ID!) { document(id: $id) { state supersededBy { id } supersedes { id } } }"""


async def _published(api: Api, world: World, title: str) -> str:
    document_id = await certificate(api, world, title=title)
    start = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    done = await api(VALIDITY, {"id": document_id, "from": start}, as_user=world.sam)
    assert done.data["setDocumentValidity"]["state"] == "VALID"
    return document_id


async def test_supersession_links_both_ways_and_never_loops(api: Api, world: World) -> None:
    first = await _published(api, world, "Certificate 2025")
    second = await _published(api, world, "Certificate 2026")
    third = await _published(api, world, "Certificate 2027")
    itself = await api(SUPERSEDE, {"id": first, "by": first}, as_user=world.sam)
    assert itself.codes == ["BAD_USER_INPUT"]
    done = await api(SUPERSEDE, {"id": first, "by": second}, as_user=world.sam)
    assert done.data["supersedeDocument"] == {
        "id": first,
        "state": "SUPERSEDED",
        "supersededBy": {"id": second},
    }
    old = await api(LINKS, {"id": first}, as_user=world.anna)
    assert old.data["document"] == {
        "state": "SUPERSEDED",
        "supersededBy": {"id": second},
        "supersedes": [],
    }
    new = await api(LINKS, {"id": second}, as_user=world.gina)
    assert new.data["document"] == {
        "state": "VALID",
        "supersededBy": None,
        "supersedes": [{"id": first}],
    }
    # back the other way (a cycle), or by a document that is itself superseded: refused
    back = await api(SUPERSEDE, {"id": second, "by": first}, as_user=world.sam)
    assert back.codes == ["BAD_USER_INPUT"]
    assert (await api(SUPERSEDE, {"id": third, "by": first}, as_user=world.sam)).codes == [
        "BAD_USER_INPUT"
    ]
    new = await api(LINKS, {"id": second}, as_user=world.sam)
    assert new.data["document"]["state"] == "VALID"
    # contacts may not supersede; an ID they may not see answers like a missing one
    assert (await api(SUPERSEDE, {"id": third, "by": second}, as_user=world.anna)).codes == [
        "FORBIDDEN"
    ]


async def test_acknowledging_is_idempotent_and_only_for_readers(api: Api, world: World) -> None:
    acme_only = await api(
        """mutation($c: ID!) { createDocument(input: {title: "Acme site rules",
        type: PROCEDURE, customerId: $c, requiresAcknowledgement: true}) { id } }""",
        {"c": gid(world.acme)},
        as_user=world.sam,
    )
    document_id = acme_only.data["createDocument"]["id"]
    assert (await upload(api, world.sam, document_id, b"%PDF-1.4 rules")).status_code == 201
    start = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    await api(VALIDITY, {"id": document_id, "from": start}, as_user=world.sam)
    for _ in range(2):
        acknowledged = await api(ACKNOWLEDGE, {"id": document_id}, as_user=world.anna)
        assert acknowledged.data["acknowledgeDocument"]["needsMyAcknowledgement"] is False
    assert await DocumentAcknowledgement.filter(user_id=world.anna.id).count() == 1
    # another customer's contact: like a missing document
    assert (await api(ACKNOWLEDGE, {"id": document_id}, as_user=world.gina)).codes == ["NOT_FOUND"]
    staff = await api(DOCUMENT, {"id": document_id}, as_user=world.sam)
    assert [a["user"]["name"] for a in staff.data["document"]["acknowledgements"]] == ["Anna"]


def _encrypted(package: bytes) -> bytes:
    """The package with every member flagged as encrypted (as a password-protected zip)."""
    data = bytearray(package)
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            flags = struct.unpack_from("<H", data, at + flags_at)[0]
            struct.pack_into("<H", data, at + flags_at, flags | 1)
            at = data.find(signature, at + 4)
    return bytes(data)


def _corrupt(package: bytes) -> bytes:
    """The package with its deflated document part overwritten by noise."""
    archive = zipfile.ZipFile(io.BytesIO(package))
    member = archive.getinfo("word/document.xml")
    start = member.header_offset + 30 + len(member.filename.encode()) + len(member.extra)
    data = bytearray(package)
    data[start : start + member.compress_size] = bytes(range(member.compress_size))
    return bytes(data)


@pytest.mark.parametrize(
    ("make", "reason"), [(_encrypted, "encrypted"), (_corrupt, "not a readable zip")]
)
def test_encrypted_and_damaged_office_files_are_not_extractable(make, reason) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotExtractable, match=reason):
        extract_text(make(docx_with_text("Forklift safety")), extraction.DOCX)


def _slow_pdf() -> bytes:
    """A small PDF (a few KB) whose one page deflates to half a million text operators:
    seconds of work for a reader."""
    operators = zlib.compress(b"BT /F1 12 Tf 72 720 Td (x) Tj ET\n" * 500_000, 9)
    body = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(operators)
    return pdf_with_text("x").replace(
        b"<< /Length ", body + operators + b"\nendstream\nendobj\n99 0 obj\n<< /Length ", 1
    )


async def test_a_runaway_extraction_is_stopped_at_its_deadline() -> None:
    threads = threading.active_count()
    started = time.monotonic()
    refused = await asyncio.gather(
        *(library_text.extract(_slow_pdf(), extraction.PDF, deadline=0.5) for _ in range(3)),
        return_exceptions=True,
    )
    assert [str(error) for error in refused] == [
        "Reading the text took longer than 0.5 seconds."
    ] * 3
    assert time.monotonic() - started < 5
    # nothing is left working on the files: no thread of the server stays taken (the
    # child processes' watchers end with them)
    for _ in range(300):
        if threading.active_count() <= threads:
            break
        await asyncio.sleep(0.01)
    assert threading.active_count() <= threads


async def test_the_runner_records_a_damaged_word_file_as_not_extractable(
    api: Api, world: World, app: Starlette
) -> None:
    document_id = await certificate(api, world, body=_corrupt(docx_with_text("Forklift")))
    assert await app.state.jobs.run_due(now=datetime.now(UTC)) >= 1
    status = """query($id: ID!) { document(id: $id) { textStatus textError } }"""
    read = await api(status, {"id": document_id}, as_user=world.sam)
    assert read.data["document"] == {
        "textStatus": "NOT_EXTRACTABLE",
        "textError": "The file is not a readable zip package.",
    }


async def test_validity_given_in_any_time_zone_is_the_same_moment(
    api: Api, world: World, app: Starlette
) -> None:
    east, west = timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))
    started = await certificate(api, world, title="Started an hour ago")
    later = await certificate(api, world, title="Starts in an hour")
    now = datetime.now(UTC)
    await api(
        VALIDITY,
        {
            "id": started,
            "from": (now - timedelta(hours=1)).astimezone(east).isoformat(),
            "until": (now + timedelta(minutes=30)).astimezone(west).isoformat(),
        },
        as_user=world.sam,
    )
    await api(
        VALIDITY,
        {"id": later, "from": (now + timedelta(hours=1)).astimezone(west).isoformat()},
        as_user=world.sam,
    )
    seen = await api(DOCUMENT, {"id": started}, as_user=world.anna)
    assert seen.data["document"]["state"] == "VALID"
    assert (await api(DOCUMENT, {"id": later}, as_user=world.anna)).codes == ["NOT_FOUND"]
    listed = await api(
        """query { documents(filter: {needsMyAcknowledgement: true}) { edges { node { id } } } }""",
        as_user=world.anna,
    )
    assert [e["node"]["id"] for e in listed.data["documents"]["edges"]] == [started]
    # the owner's reminders already due (30 and 7 days before the end) are sent
    assert await app.state.jobs.run_due(now=datetime.now(UTC)) >= 2
    staff = await api(DOCUMENT, {"id": started}, as_user=world.sam)
    assert sorted(r["kind"] for r in staff.data["document"]["reminders"]) == [
        "EXPIRES_IN_30_DAYS",
        "EXPIRES_IN_7_DAYS",
    ]
