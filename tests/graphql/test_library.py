"""The document library at API level: a certificate offered to two customers, seen and
acknowledged by their contacts and by no one else, acknowledged again after a new version,
expired at once when its validity ends, its owner reminded before; member folders, drafts,
the administrator's audited deletion, restoration and the downloads log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette

from actions import accounts, customers
from models import AuditEntry, DocumentDownload, Role, User
from tests.conftest import Api, gid
from tests.world import World

DOCUMENT_FIELDS = """
  id title state tags needsMyAcknowledgement validUntil
  currentVersion { id number label downloadUrl acknowledgements { user { name } versionNumber } }
  versions { number deletedAt }
  acknowledgements { user { name } versionNumber at }
  reminders { kind user { name } }
  downloads { user { name } }
"""
CREATE = (
    "mutation($input: CreateDocumentInput!) { createDocument(input: $input) { "
    + DOCUMENT_FIELDS
    + " } }"
)
VALIDITY = """mutation($id: ID!, $from: DateTime, $until: DateTime) {
  setDocumentValidity(id: $id, validFrom: $from, validUntil: $until) { id state } }"""
DOCUMENT = "query($id: ID!) { document(id: $id) { " + DOCUMENT_FIELDS + " } }"
DOCUMENTS = """query($filter: DocumentFilter) { documents(filter: $filter) {
  edges { node { id title state } } } }"""
ACKNOWLEDGE = """mutation($id: ID!) { acknowledgeDocument(id: $id) {
  id needsMyAcknowledgement } }"""
LIBRARY = """query($customerId: ID) { library(customerId: $customerId) {
  folders { id name openToMembers documents { id title } } documents { id title state } } }"""


async def upload(api: Api, as_user: Any, document_id: str, body: bytes, label: str = "") -> Any:
    return await api.client.post(
        f"/library/documents/{document_id}/versions?name=cert.pdf&label={label}",
        content=body,
        headers={"Authorization": f"Bearer {api.token_for(as_user)}"},
    )


async def certificate(api: Api, world: World, body: bytes = b"%PDF-1.4 first", **extra: Any) -> str:
    """A shared certificate offered to Acme and Globex, with one version (the file
    ``body``), not published."""
    created = await api(
        CREATE,
        {
            "input": {
                "title": "ISO 9001 certificate",
                "type": "CERTIFICATE",
                "tags": ["ISO", "quality"],
                "offeredToAll": False,
                "customerIds": [gid(world.acme), gid(world.globex)],
                "requiresAcknowledgement": True,
                **extra,
            }
        },
        as_user=world.sam,
    )
    assert created.errors == []
    document_id: str = created.data["createDocument"]["id"]
    assert (await upload(api, world.sam, document_id, body, "2026")).status_code == 201
    return document_id


async def initech_contact() -> User:
    """Ian, lead contact of Initech: a third customer, offered nothing."""
    initech = await customers.create_customer(None, name="Initech", slug="initech")
    return await accounts.create_user(
        email="ian@initech.example",
        name="Ian",
        role=Role.CUSTOMER_ADMIN,
        password=None,
        customer=initech,
    )


INBOX = """query { notifications { edges { node { reason event {
  __typename ... on LibraryEvent { kind reminder document { title } } } } } } }"""


async def library_inbox(api: Api, user: User) -> list[tuple[str, str, str, str | None]]:
    """The user's notifications of library events: (kind, document title, reason,
    reminder), sorted."""
    edges = (await api(INBOX, as_user=user)).data["notifications"]["edges"]
    events = [(e["node"], e["node"]["event"]) for e in edges]
    return sorted(
        (event["kind"], event["document"]["title"], node["reason"], event["reminder"])
        for node, event in events
        if event["__typename"] == "LibraryEvent"
    )


async def test_a_certificate_for_two_customers_is_acknowledged_and_expires(
    api: Api, world: World, app: Starlette
) -> None:
    ian = await initech_contact()
    document_id = await certificate(api, world)
    # a draft is staff's alone
    assert (await api(DOCUMENT, {"id": document_id}, as_user=world.anna)).codes == ["NOT_FOUND"]
    start = datetime.now(UTC) - timedelta(minutes=1)
    until = start + timedelta(days=60)
    published = await api(
        VALIDITY,
        {"id": document_id, "from": start.isoformat(), "until": until.isoformat()},
        as_user=world.sam,
    )
    assert published.data["setDocumentValidity"]["state"] == "VALID"
    # contacts of both customers see it and have it to acknowledge; a third sees nothing
    for contact in (world.anna, world.max, world.gina, world.gus):
        seen = await api(DOCUMENT, {"id": document_id}, as_user=contact)
        assert seen.data["document"]["state"] == "VALID"
        assert seen.data["document"]["needsMyAcknowledgement"] is True
        waiting = await api(
            DOCUMENTS, {"filter": {"needsMyAcknowledgement": True}}, as_user=contact
        )
        assert [e["node"]["id"] for e in waiting.data["documents"]["edges"]] == [document_id]
    assert (await api(DOCUMENT, {"id": document_id}, as_user=ian)).codes == ["NOT_FOUND"]
    assert (await api(DOCUMENTS, {}, as_user=ian)).data["documents"]["edges"] == []
    for contact in (world.anna, world.gina):
        done = await api(ACKNOWLEDGE, {"id": document_id}, as_user=contact)
        assert done.data["acknowledgeDocument"]["needsMyAcknowledgement"] is False
    # staff see who acknowledged which version
    read = await api(DOCUMENT, {"id": document_id}, as_user=world.sam)
    acknowledged = read.data["document"]["acknowledgements"]
    assert sorted((a["user"]["name"], a["versionNumber"]) for a in acknowledged) == [
        ("Anna", 1),
        ("Gina", 1),
    ]
    per_version = read.data["document"]["currentVersion"]["acknowledgements"]
    assert sorted(a["user"]["name"] for a in per_version) == ["Anna", "Gina"]
    assert (await api(DOCUMENT, {"id": document_id}, as_user=world.anna)).data["document"][
        "acknowledgements"
    ] == []
    # a new version asks again
    assert (
        await upload(api, world.sam, document_id, b"%PDF-1.4 second", "2027")
    ).status_code == 201
    again = await api(DOCUMENT, {"id": document_id}, as_user=world.anna)
    assert again.data["document"]["currentVersion"]["number"] == 2
    assert again.data["document"]["needsMyAcknowledgement"] is True
    # the owner is reminded 30 and 7 days before and on the day
    jobs = app.state.jobs
    await jobs.run_due(now=until - timedelta(days=30))
    await jobs.run_due(now=until - timedelta(days=7))
    await jobs.run_due(now=until)
    reminders = (await api(DOCUMENT, {"id": document_id}, as_user=world.sam)).data["document"][
        "reminders"
    ]
    owner = sorted(r["kind"] for r in reminders if r["user"]["name"] == "Sam")
    assert owner == ["EXPIRES_IN_30_DAYS", "EXPIRES_IN_7_DAYS", "EXPIRES_TODAY"]
    # the contacts concerned are told it expired
    told = {r["user"]["name"] for r in reminders if r["kind"] == "EXPIRED"}
    assert {"Anna", "Gina", "Max", "Gus"} <= told
    assert "Ian" not in told


async def test_past_its_end_a_document_reads_expired_before_the_runner_ran(
    api: Api, world: World
) -> None:
    document_id = await certificate(api, world)
    start = datetime.now(UTC) - timedelta(days=2)
    end = datetime.now(UTC) - timedelta(seconds=1)
    await api(
        VALIDITY,
        {"id": document_id, "from": start.isoformat(), "until": end.isoformat()},
        as_user=world.sam,
    )
    seen = await api(DOCUMENT, {"id": document_id}, as_user=world.anna)
    assert seen.data["document"]["state"] == "EXPIRED"
    assert seen.data["document"]["needsMyAcknowledgement"] is False
    assert (await api(ACKNOWLEDGE, {"id": document_id}, as_user=world.anna)).codes == [
        "BAD_USER_INPUT"
    ]
    valid = await api(DOCUMENTS, {"filter": {"state": ["VALID"]}}, as_user=world.anna)
    assert valid.data["documents"]["edges"] == []


async def test_members_see_only_folders_their_lead_contact_opened(api: Api, world: World) -> None:
    folder = await api(
        """mutation($c: ID!) { createFolder(name: "Contracts", customerId: $c,
        openToMembers: false) { id } }""",
        {"c": gid(world.acme)},
        as_user=world.sam,
    )
    folder_id = folder.data["createFolder"]["id"]
    created = await api(
        CREATE,
        {
            "input": {
                "title": "Framework contract",
                "type": "CONTRACT",
                "customerId": gid(world.acme),
                "folderId": folder_id,
            }
        },
        as_user=world.sam,
    )
    document_id = created.data["createDocument"]["id"]
    await upload(api, world.sam, document_id, b"%PDF-1.4 contract")
    await api(
        VALIDITY,
        {"id": document_id, "from": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
        as_user=world.sam,
    )
    assert (await api(DOCUMENT, {"id": document_id}, as_user=world.anna)).errors == []
    assert (await api(DOCUMENT, {"id": document_id}, as_user=world.max)).codes == ["NOT_FOUND"]
    assert (await api(DOCUMENT, {"id": document_id}, as_user=world.gina)).codes == ["NOT_FOUND"]
    library = await api(LIBRARY, {"customerId": gid(world.acme)}, as_user=world.max)
    assert library.data["library"]["folders"] == []
    # the lead contact opens it; max sees it then; gina may not open it
    opening = (
        """mutation($id: ID!) { openFolderToMembers(id: $id, open: true) { openToMembers } }"""
    )
    assert (await api(opening, {"id": folder_id}, as_user=world.gina)).codes == ["NOT_FOUND"]
    assert (await api(opening, {"id": folder_id}, as_user=world.max)).codes == ["NOT_FOUND"]
    opened = await api(opening, {"id": folder_id}, as_user=world.anna)
    assert opened.data["openFolderToMembers"]["openToMembers"] is True
    library = await api(LIBRARY, {"customerId": gid(world.acme)}, as_user=world.max)
    assert library.data["library"]["folders"][0]["documents"] == [
        {"id": document_id, "title": "Framework contract"}
    ]
    # Globex's library is not Acme's to read
    assert (await api(LIBRARY, {"customerId": gid(world.globex)}, as_user=world.max)).codes == [
        "NOT_FOUND"
    ]


async def test_deleting_a_version_is_an_audited_act_of_administrators(
    api: Api, world: World
) -> None:
    document_id = await certificate(api, world)
    await upload(api, world.sam, document_id, b"%PDF-1.4 second")
    read = await api(DOCUMENT, {"id": document_id}, as_user=world.sam)
    second = read.data["document"]["currentVersion"]["id"]
    delete = "mutation($id: ID!) { deleteDocumentVersion(id: $id) { number deletedAt } }"
    assert (await api(delete, {"id": second}, as_user=world.sam)).codes == ["FORBIDDEN"]
    done = await api(delete, {"id": second}, as_user=world.admin)
    assert done.data["deleteDocumentVersion"]["deletedAt"] is not None
    assert (
        await AuditEntry.filter(action="library.version_deleted", actor_id=world.admin.id).count()
        == 1
    )
    read = await api(DOCUMENT, {"id": document_id}, as_user=world.sam)
    assert read.data["document"]["currentVersion"]["number"] == 1
    assert [v["number"] for v in read.data["document"]["versions"]] == [2, 1]
    # restoring makes a new version; nothing is lost
    restore = "mutation($id: ID!) { restoreDocumentVersion(id: $id) { number label } }"
    restored = await api(restore, {"id": second}, as_user=world.sam)
    assert restored.data["restoreDocumentVersion"]["number"] == 3
    read = await api(DOCUMENT, {"id": document_id}, as_user=world.sam)
    assert [v["number"] for v in read.data["document"]["versions"]] == [3, 2, 1]
    # another customer's contact cannot restore (out of scope: NOT_FOUND)
    assert (await api(restore, {"id": second}, as_user=world.gina)).codes == ["NOT_FOUND"]


async def test_downloads_are_logged_per_version_and_links_are_per_reader(
    api: Api, world: World
) -> None:
    document_id = await certificate(api, world)
    await api(
        VALIDITY,
        {"id": document_id, "from": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
        as_user=world.sam,
    )
    read = await api(DOCUMENT, {"id": document_id}, as_user=world.gina)
    url = read.data["document"]["currentVersion"]["downloadUrl"]
    response = await api.client.get(url)
    assert response.status_code == 200
    assert response.content == b"%PDF-1.4 first"
    assert await DocumentDownload.filter(user_id=world.gina.id).count() == 1
    staff = await api(DOCUMENT, {"id": document_id}, as_user=world.sam)
    assert [d["user"]["name"] for d in staff.data["document"]["downloads"]] == ["Gina"]
    # a forged or foreign link answers 404
    assert (await api.client.get(url.split("?")[0] + "?token=nope")).status_code == 404


async def test_a_draft_is_hidden_and_contacts_cannot_write(api: Api, world: World) -> None:
    document_id = await certificate(api, world)
    for contact in (world.anna, world.gina):
        assert (await api(DOCUMENT, {"id": document_id}, as_user=contact)).codes == ["NOT_FOUND"]
        listed = await api(DOCUMENTS, {}, as_user=contact)
        assert listed.data["documents"]["edges"] == []
    refused = await api(CREATE, {"input": {"title": "Mine", "type": "OTHER"}}, as_user=world.anna)
    assert refused.codes == ["FORBIDDEN"]
    assert (await upload(api, world.anna, document_id, b"x")).status_code == 404
    bad = await api(
        VALIDITY,
        {
            "id": document_id,
            "from": datetime.now(UTC).isoformat(),
            "until": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        },
        as_user=world.sam,
    )
    assert bad.codes == ["BAD_USER_INPUT"]
