"""Watching library folders and documents: watchers are told of new versions and of a
supersession in their inbox and by mail, a MUTED document silences its folder's watch,
and only readers may watch (another customer's document answers like a missing one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette

from models import DocumentReminder, ReminderKind
from models.mail import OutgoingMail
from tests.conftest import Api, gid
from tests.graphql.test_library import CREATE, VALIDITY, initech_contact, library_inbox, upload
from tests.world import World

WATCH = """mutation($id: ID!, $level: WatchLevel!) {
  watch(input: {targetId: $id, level: $level}) {
    watch { level target { __typename ... on LibraryDocument { title }
      ... on LibraryFolder { name } } } } }"""
SUPERSEDE = """mutation($id: ID!, $by: ID!) { supersedeDocument(id: $id, byId: $by) { state } }"""


async def _published(api: Api, world: World, title: str, folder_id: str | None) -> str:
    created = await api(
        CREATE,
        {
            "input": {
                "title": title,
                "type": "MANUAL",
                "folderId": folder_id,
                "offeredToAll": False,
                "customerIds": [gid(world.acme), gid(world.globex)],
            }
        },
        as_user=world.sam,
    )
    document_id: str = created.data["createDocument"]["id"]
    assert (await upload(api, world.sam, document_id, b"%PDF-1.4 manual")).status_code == 201
    start = datetime.now(UTC) - timedelta(minutes=1)
    published = await api(
        VALIDITY, {"id": document_id, "from": start.isoformat()}, as_user=world.sam
    )
    assert published.errors == []
    return document_id


async def _library_inbox(api: Api, user: Any) -> list[tuple[str, str, str]]:
    return [(kind, title, reason) for kind, title, reason, _ in await library_inbox(api, user)]


async def test_watchers_of_a_folder_or_a_document_are_told_of_versions_and_supersession(
    api: Api, world: World, app: Starlette
) -> None:
    folder = await api('mutation { createFolder(name: "Manuals") { id } }', as_user=world.sam)
    folder_id = folder.data["createFolder"]["id"]
    manual = await _published(api, world, "Operating manual", folder_id)
    successor = await _published(api, world, "Operating manual 2", folder_id)
    # Anna watches the folder, Gus the document; Max watches the folder but mutes it
    for user, target, level, shown in (
        (world.anna, folder_id, "WATCHING", {"__typename": "LibraryFolder", "name": "Manuals"}),
        (
            world.gus,
            manual,
            "WATCHING",
            {"__typename": "LibraryDocument", "title": "Operating manual"},
        ),
        (world.max, folder_id, "WATCHING", None),
        (world.max, manual, "MUTED", None),
    ):
        watched = await api(WATCH, {"id": target, "level": level}, as_user=user)
        assert watched.errors == [], watched.errors
        if shown is not None:
            assert watched.data["watch"]["watch"]["target"] == shown
    # a contact of a customer it is not offered to may not watch it
    ian = await initech_contact()
    refused = await api(WATCH, {"id": manual, "level": "WATCHING"}, as_user=ian)
    assert refused.codes == ["NOT_FOUND"]
    # a new version and the supersession reach the watchers, not the others
    assert (await upload(api, world.sam, manual, b"%PDF-1.4 manual v2")).status_code == 201
    superseded = await api(SUPERSEDE, {"id": manual, "by": successor}, as_user=world.sam)
    assert superseded.data["supersedeDocument"]["state"] == "SUPERSEDED"
    expected = [
        ("DOCUMENT_SUPERSEDED", "Operating manual", "WATCHING"),
        ("VERSION_ADDED", "Operating manual", "WATCHING"),
    ]
    assert await _library_inbox(api, world.gus) == expected
    assert await _library_inbox(api, world.anna) == expected
    assert await _library_inbox(api, world.max) == []
    assert await _library_inbox(api, world.gina) == []
    assert await _library_inbox(api, ian) == []
    # those who rely on it (here: its watchers) are recorded as told of the supersession
    told = [r.user_id for r in await DocumentReminder.filter(kind=ReminderKind.SUPERSEDED)]
    assert sorted(told) == sorted([world.anna.id, world.gus.id])
    # and it reaches them by mail once the batch is due
    await app.state.jobs.run_due(now=datetime.now(UTC) + timedelta(days=1))
    mails = await OutgoingMail.filter(to_address=world.gus.email, template="notification")
    assert len(mails) == 1
    assert "Operating manual" in str(mails[0].context)
    assert not await OutgoingMail.filter(to_address=world.gina.email, template="notification")
