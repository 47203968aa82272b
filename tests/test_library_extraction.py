"""The text of library files is read in the background and found by search; hostile
files (a zip bomb, an encrypted PDF, a malformed one) are recorded as not extractable
without stalling anything."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfWriter
from starlette.applications import Starlette

from actions import library_text
from domain import extraction
from domain.extraction import NotExtractable, extract_text
from tests.conftest import Api, gid
from tests.world import World


def pdf_with_text(text: str) -> bytes:
    """A one-page PDF that shows ``text`` in Helvetica, with a correct cross-reference."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def docx_with_text(text: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(
            "word/document.xml",
            '<w:document xmlns:w="urn:w"><w:body><w:p><w:r><w:t>'
            + text
            + "</w:t></w:r></w:p></w:body></w:document>",
        )
    return out.getvalue()


def test_the_text_of_a_pdf_and_a_word_file_is_read() -> None:
    assert "Calibration certificate 4711" in extract_text(
        pdf_with_text("Calibration certificate 4711"), extraction.PDF
    )
    assert extract_text(docx_with_text("Forklift safety procedure"), extraction.DOCX) == (
        "Forklift safety procedure"
    )


def test_a_zip_bomb_is_refused_before_it_is_inflated() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<a>" + b" " * 5_000_000 + b"</a>")
    with pytest.raises(NotExtractable, match="zip bomb"):
        extract_text(out.getvalue(), extraction.DOCX)


def test_entities_encrypted_and_malformed_files_are_refused() -> None:
    plain = docx_with_text("x")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", '<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>')
    with pytest.raises(NotExtractable, match="entities"):
        extract_text(out.getvalue(), extraction.DOCX)
    assert extract_text(plain, extraction.DOCX) == "x"
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("secret", algorithm="RC4-128")
    encrypted = io.BytesIO()
    writer.write(encrypted)
    with pytest.raises(NotExtractable, match="encrypted"):
        extract_text(encrypted.getvalue(), extraction.PDF)
    with pytest.raises(NotExtractable, match="malformed"):
        extract_text(b"%PDF-1.4\n1 0 obj << /Type /Catalog", extraction.PDF)
    with pytest.raises(NotExtractable):
        extract_text(b"PK\x03\x04 not really", extraction.DOCX)


async def test_a_slow_extraction_is_given_up_at_its_deadline() -> None:
    with pytest.raises(NotExtractable, match="longer than"):
        await library_text.extract(pdf_with_text("slow"), extraction.PDF, deadline=0)


async def test_search_finds_a_document_by_the_text_inside_its_pdf(
    api: Api, world: World, app: Starlette
) -> None:
    created = await api(
        """mutation($c: ID!) { createDocument(input: {title: "Scale certificate",
        type: CERTIFICATE, customerId: $c}) { id } }""",
        {"c": gid(world.acme)},
        as_user=world.sam,
    )
    document_id = created.data["createDocument"]["id"]
    response = await api.client.post(
        f"/library/documents/{document_id}/versions?name=scale.pdf",
        content=pdf_with_text("Calibration certificate 4711 for the dock scale"),
        headers={"Authorization": f"Bearer {api.token_for(world.sam)}"},
    )
    assert response.status_code == 201
    await api(
        """mutation($id: ID!, $from: DateTime) { setDocumentValidity(id: $id,
        validFrom: $from) { id } }""",
        {"id": document_id, "from": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
        as_user=world.sam,
    )
    search = """query($text: String!) { documents(filter: {text: $text}) { edges { node {
      id textStatus matchSnippet(text: $text) } } } }"""
    before = await api(search, {"text": "4711"}, as_user=world.anna)
    assert before.data["documents"]["edges"] == []  # not read yet: never on the request path
    assert await app.state.jobs.run_due(now=datetime.now(UTC)) >= 1
    found = await api(search, {"text": "4711"}, as_user=world.anna)
    node = found.data["documents"]["edges"][0]["node"]
    assert node["id"] == document_id
    assert node["textStatus"] == "EXTRACTED"
    assert "Calibration certificate 4711" in node["matchSnippet"]
    # the same words are not found by another customer's contact
    assert (await api(search, {"text": "4711"}, as_user=world.gina)).data["documents"][
        "edges"
    ] == []
