"""The document library from end to end, as staff and contacts live it: a certificate
published for two customers, acknowledged by their contacts and unseen by a third, asked
for again with a new version, its owner reminded before its end and the document expired
as soon as its end has passed; the text inside its PDF found by search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette

from app.demo import CERTIFICATE_LINES, text_pdf
from models import DocumentState, LibraryDocument
from models.mail import OutgoingMail
from tests.conftest import Api
from tests.graphql.test_library import (
    ACKNOWLEDGE,
    DOCUMENT,
    DOCUMENTS,
    VALIDITY,
    certificate,
    initech_contact,
    library_inbox,
    upload,
)
from tests.world import World

SEARCH = """query($q: String!) { search(query: $q) { edges { node { snippet
  node { __typename ... on LibraryDocument { id title } } } } } }"""


async def _library_inbox(api: Api, user: Any) -> list[tuple[str, str | None]]:
    return [(kind, reminder) for kind, _, _, reminder in await library_inbox(api, user)]


async def test_a_certificate_for_two_customers_from_publication_to_expiry(
    api: Api, world: World, app: Starlette
) -> None:
    ian = await initech_contact()
    jobs = app.state.jobs
    # given: staff publish a certificate with a PDF for Acme and Globex, until a date
    pdf = text_pdf([*CERTIFICATE_LINES, "Issue 2026"])
    document_id = await certificate(api, world, body=pdf)
    until = datetime.now(UTC) + timedelta(days=60)
    published = await api(
        VALIDITY,
        {
            "id": document_id,
            "from": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "until": until.isoformat(),
        },
        as_user=world.sam,
    )
    assert published.data["setDocumentValidity"]["state"] == "VALID"
    # then: contacts of both see it to acknowledge, and acknowledge it; the third sees nothing
    for contact in (world.anna, world.gina):
        waiting = await api(
            DOCUMENTS, {"filter": {"needsMyAcknowledgement": True}}, as_user=contact
        )
        assert [e["node"]["id"] for e in waiting.data["documents"]["edges"]] == [document_id]
        done = await api(ACKNOWLEDGE, {"id": document_id}, as_user=contact)
        assert done.data["acknowledgeDocument"]["needsMyAcknowledgement"] is False
    assert (await api(DOCUMENTS, {}, as_user=ian)).data["documents"]["edges"] == []
    assert (await api(DOCUMENT, {"id": document_id}, as_user=ian)).codes == ["NOT_FOUND"]
    # the text inside the PDF is found once the background extraction ran, by readers only
    await jobs.run_due(now=datetime.now(UTC))
    found = (await api(SEARCH, {"q": "conformity"}, as_user=world.gina)).data["search"]["edges"]
    assert [e["node"]["node"] for e in found] == [
        {"__typename": "LibraryDocument", "id": document_id, "title": "ISO 9001 certificate"}
    ]
    assert "<mark>" in found[0]["node"]["snippet"]
    assert (await api(SEARCH, {"q": "conformity"}, as_user=ian)).data["search"]["edges"] == []
    # a new version asks every contact again
    renewed = text_pdf([*CERTIFICATE_LINES, "Issue 2027"])
    assert (await upload(api, world.sam, document_id, renewed, "2027")).status_code == 201
    again = await api(DOCUMENT, {"id": document_id}, as_user=world.anna)
    assert again.data["document"]["currentVersion"]["number"] == 2
    assert again.data["document"]["needsMyAcknowledgement"] is True
    # its owner is reminded 30 and 7 days before its end, in the inbox and by mail
    await jobs.run_due(now=until - timedelta(days=30))
    await jobs.run_due(now=until - timedelta(days=7))
    assert await _library_inbox(api, world.sam) == [
        ("EXPIRY_REMINDED", "EXPIRES_IN_30_DAYS"),
        ("EXPIRY_REMINDED", "EXPIRES_IN_7_DAYS"),
    ]
    reminded = await OutgoingMail.filter(to_address=world.sam.email, template="notification")
    assert reminded
    assert "ISO 9001 certificate" in str(reminded[-1].context)
    # when its end has passed (its dates moved 61 days back: as if that time had gone by)
    # it reads EXPIRED at once, before the runner recorded anything
    shift = timedelta(days=61)
    document = await LibraryDocument.filter(title="ISO 9001 certificate").get()
    await LibraryDocument.filter(id=document.id).update(
        valid_from=document.valid_from - shift if document.valid_from else None,
        valid_until=until - shift,
    )
    expired = await api(DOCUMENT, {"id": document_id}, as_user=world.gina)
    assert expired.data["document"]["state"] == "EXPIRED"
    assert expired.data["document"]["needsMyAcknowledgement"] is False
    assert (await LibraryDocument.get(id=document.id)).recorded_state is DocumentState.VALID
    # the runner then records it and the contacts who must rely on it are told
    await jobs.run_due(now=until)
    assert (await LibraryDocument.get(id=document.id)).recorded_state is DocumentState.EXPIRED
    assert ("STATE_CHANGED", None) in await _library_inbox(api, world.anna)
    assert await _library_inbox(api, ian) == []
