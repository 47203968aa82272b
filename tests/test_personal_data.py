"""Personal data: a person's export holds their data and nobody else's private data, and
an erased person leaves no trace of their name or address anywhere in the database, only a
tombstone that keeps conversations readable and the audit chain intact."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import orjson
from starlette.applications import Starlette
from tortoise import Tortoise, connections

from actions import (
    access_tokens,
    account_lifecycle,
    accounts,
    audit,
    erasure,
    microposts,
    pages,
    projects,
    requests,
    watches,
)
from actions.mail import queue_mail
from actions.unit_of_work import unit_of_work
from app.db import is_postgres
from domain.mail import OutgoingMessage
from domain.tokens import DownloadKind, issue_download_token
from graphql_schema.relay import node_pk
from infra.settings import Settings
from models import (
    DocumentAcknowledgement,
    DocumentDownload,
    DocumentVersion,
    Invitation,
    Micropost,
    RecoveryCode,
    Role,
    User,
    WatchLevel,
    WatchTargetKind,
)
from realtime.bus import EventBus
from tests.conftest import TEST_SESSION, Api, gid
from tests.world import PASSWORD, TICKET_ANSWERS, World, password_hash

NAME = "Zelda Quintrell"
EMAIL = "zelda.quintrell@acme.example"
TRACES = ("zelda quintrell", "quintrell", EMAIL)  # her name, surname (and handle), address
FILE = b"Zelda's delivery notes, page 1"

ERASE = "mutation ($id: ID!) { eraseUser(input: {userId: $id}) { user { name handle } } }"
EXPORT = "mutation ($id: ID) { exportMyData(input: {userId: $id}) { export { id status } } }"
EXPORTS = "{ myDataExports { id status size downloadUrl user { name } } }"
POST = """query ($id: ID!) { node(id: $id) {
  ... on Micropost { body bodyHtml author { name handle } } } }"""
ME = "{ me { name } }"


@dataclass
class Zelda:
    user: User
    post: Micropost  # hers
    mention: Micropost  # sam's, mentioning her
    attachment_id: str


async def _zelda_everywhere(app: Starlette, api: Api, world: World, bus: EventBus) -> Zelda:
    """A contact of Acme with something in every domain."""
    zelda = await accounts.create_user(
        email=EMAIL, name=NAME, role=Role.CUSTOMER_MEMBER, password=None, customer=world.acme
    )
    zelda.password_hash = password_hash()
    await zelda.save(update_fields=["password_hash"])
    await projects.add_project_member(world.sam, project_id=world.portal.id, user_id=zelda.id)
    settings: Settings = app.state.settings
    await accounts.login(settings, EMAIL, PASSWORD, "198.51.100.23")  # a session, a network
    post = await microposts.post_micropost(
        zelda, bus, project_id=world.portal.id, body="Pallets arrive Monday #launch"
    )
    await microposts.post_micropost(
        zelda, bus, project_id=world.portal.id, body="Looks good", page_id=world.portal_page.id
    )
    mention = await microposts.post_micropost(
        world.sam, bus, project_id=world.portal.id, body="Thanks @zelda.quintrell, Zelda Quintrell!"
    )
    await pages.update_page(
        zelda,
        bus,
        page_id=world.portal_page.id,
        base_revision=1,
        body="# Goals\nZelda's list",
        summary="by Zelda Quintrell",
    )
    request = await requests.submit_request(
        zelda,
        bus,
        type_id=world.support_type.id,
        title="Scanner in bay 4",
        answers=TICKET_ANSWERS,
    )
    await requests.reply_to_request(
        world.sam, bus, request_id=request.id, body="Dear Zelda Quintrell, on it."
    )
    await requests.reply_to_request(zelda, bus, request_id=request.id, body="Thanks, Zelda")
    await watches.watch(
        zelda, kind=WatchTargetKind.PROJECT, target_id=world.portal.id, level=WatchLevel.WATCHING
    )
    await access_tokens.create_access_token(
        zelda,
        name="Zelda's laptop",
        scopes=["projects:read"],
        expires_at=datetime.now(UTC) + timedelta(days=30),
    )
    uploaded = await api.client.post(
        f"/pages/{gid(world.portal_page)}/attachments?name=zelda-notes.txt",
        content=FILE,
        headers={"Authorization": f"Bearer {api.token_for(zelda)}"},
    )
    assert uploaded.status_code == 201, uploaded.text
    version = await DocumentVersion.create(
        document_id=world.globex_library_document.id,
        number=1,
        name="manual.pdf",
        content_key="0" * 64,
        content_type="application/pdf",
        size=1,
        uploaded_by_id=world.olivia.id,
    )
    await DocumentAcknowledgement.create(version_id=version.id, user_id=zelda.id)
    await DocumentDownload.create(version_id=version.id, user_id=zelda.id)
    zelda.totp_secret = "JBSWY3DPEHPK3PXP"
    await zelda.save(update_fields=["totp_secret"])
    await RecoveryCode.create(user_id=zelda.id, code_hash="1" * 64)
    await Invitation.create(
        customer_id=world.acme.id,
        email=EMAIL,
        name=NAME,
        role=Role.CUSTOMER_MEMBER,
        invited_by_id=world.anna.id,
        token_hash="2" * 64,
        expires_at=datetime.now(UTC) + timedelta(days=7),
    )
    await account_lifecycle.request_password_reset(
        EMAIL, "198.51.100.23", app.state.graphql.throttle
    )
    async with unit_of_work():
        for to, user_id in ((EMAIL, zelda.id), ("sam@provider.example", world.sam.id)):
            await queue_mail(
                OutgoingMessage(
                    to_address=to,
                    to_user_id=user_id,
                    template="notice",
                    subject=f"{NAME} replied",
                    context={"heading": f"{NAME} replied", "paragraphs": ["See the request."]},
                )
            )
    await app.state.jobs.run_due()  # the mail goes out, the reset link too
    await audit.seal()
    return Zelda(zelda, post, mention, uploaded.json()["data"]["attachment"]["id"])


async def _database_dump(settings: Settings) -> str:
    """Every row of every table, as text (SQLite: its dump; PostgreSQL: each row as JSON)."""
    if not is_postgres(settings.database_url):
        path = settings.database_url.removeprefix("sqlite://")

        def dump() -> str:
            with sqlite3.connect(path) as copy:
                return "\n".join(copy.iterdump())

        return await asyncio.to_thread(dump)
    conn = connections.get("default")
    _, tables = await conn.execute_query(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
    )
    lines = []
    for table in tables:
        name = table["table_name"]
        _, rows = await conn.execute_query(
            f'SELECT row_to_json(t)::text AS line FROM "{name}" t'  # noqa: S608
        )
        lines += [f"{name}: {row['line']}" for row in rows]
    return "\n".join(lines)


async def test_an_erased_contact_leaves_no_trace_but_a_tombstone(
    app: Starlette, api: Api, world: World, bus: EventBus, settings: Settings
) -> None:
    # given a contact with content in every domain, mentioned by others
    zelda = await _zelda_everywhere(app, api, world, bus)
    old_token = api.token_for(zelda.user)
    dump = (await _database_dump(settings)).lower()
    assert all(trace in dump for trace in TRACES)
    # when another customer's lead contact and a member try, then Acme's lead contact erases
    other = await api(ERASE, {"id": gid(zelda.user)}, as_user=world.gina)
    member = await api(ERASE, {"id": gid(zelda.user)}, as_user=world.max)
    erased = await api(ERASE, {"id": gid(zelda.user)}, as_user=world.anna)
    again = await api(ERASE, {"id": gid(zelda.user)}, as_user=world.admin)
    # then only the lead contact could, and once
    assert other.codes == ["NOT_FOUND"]
    assert member.codes == ["FORBIDDEN"]
    assert erased.errors == []
    tombstone = erased.data["eraseUser"]["user"]
    assert tombstone == {"name": "Former contact 1 of Acme Logistics", "handle": "former-contact-1"}
    assert again.codes == ["CONFLICT"]
    # and nothing in the database holds her name or address any more
    dump = (await _database_dump(settings)).lower()
    left = [line for line in dump.splitlines() if any(t in line for t in TRACES)]
    assert left == [], "\n".join(left)
    # while conversations stay readable, naming the tombstone
    hers = await api(POST, {"id": gid(zelda.post)}, as_user=world.sam)
    assert hers.data["node"]["body"] == "Pallets arrive Monday #launch"
    assert hers.data["node"]["author"]["name"] == tombstone["name"]
    mention = (await api(POST, {"id": gid(zelda.mention)}, as_user=world.sam)).data["node"]
    assert mention["body"] == f"Thanks @former-contact-1, {tombstone['name']}!"
    assert "@former-contact-1" in mention["bodyHtml"]
    # and she can never sign in again
    refused = await api.client.post(
        "/graphql",
        json={
            "query": f'mutation {{ login(input: {{email: "{EMAIL}", password: "{PASSWORD}"}}) '
            "{ accessToken } }"
        },
    )
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await api(ME, token=old_token)).codes == ["UNAUTHENTICATED"]
    # and the audit chain holds, with an entry naming her tombstone's pseudonym
    assert (await audit.verify()).broken is None
    log = await api(
        '{ auditLog(action: "user.erased") '
        "{ edges { node { subject { name } actor { name } } } } }",
        as_user=world.admin,
    )
    assert log.data["auditLog"]["edges"] == [
        {"node": {"subject": {"name": tombstone["name"]}, "actor": {"name": "Anna"}}}
    ]


async def _exports(api: Api, user: User) -> list[dict[str, object]]:
    result = await api(EXPORTS, as_user=user)
    assert result.errors == []
    return list(result.data["myDataExports"])


async def test_an_export_holds_her_data_for_her_alone_for_a_short_while(
    app: Starlette, api: Api, world: World, bus: EventBus, client: httpx.AsyncClient
) -> None:
    # given a contact with content in every domain
    zelda = await _zelda_everywhere(app, api, world, bus)
    # when she asks for her data, a member asks for hers, and the administrator does too
    asked = await api(EXPORT, as_user=zelda.user)
    refused = await api(EXPORT, {"id": gid(zelda.user)}, as_user=world.max)
    on_behalf = await api(EXPORT, {"id": gid(zelda.user)}, as_user=world.admin)
    assert asked.data["exportMyData"]["export"]["status"] == "PENDING"
    assert refused.codes == ["FORBIDDEN"]
    assert on_behalf.errors == []
    await app.state.jobs.run_due()
    # then her export is ready, with a link that opens the ZIP
    [mine, by_admin] = await _exports(api, zelda.user)
    assert mine["status"] == by_admin["status"] == "READY"
    assert [e["id"] for e in await _exports(api, world.admin)] == [mine["id"]]
    assert await _exports(api, world.max) == []
    response = await client.get(str(by_admin["downloadUrl"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    files = {name: archive.read(name) for name in archive.namelist()}
    profile = orjson.loads(files["profile.json"])
    assert (profile["email"], profile["name"]) == (EMAIL, NAME)
    assert [p["body"] for p in orjson.loads(files["posts.json"])] == [
        "Pallets arrive Monday #launch",
        "Looks good",
    ]
    assert [r["summary"] for r in orjson.loads(files["page_revisions.json"])] == [
        "by Zelda Quintrell"
    ]
    assert [r["title"] for r in orjson.loads(files["requests.json"])] == ["Scanner in bay 4"]
    assert [m["body"] for m in orjson.loads(files["request_messages.json"])] == ["Thanks, Zelda"]
    assert orjson.loads(files["notifications.json"])
    assert [w["level"] for w in orjson.loads(files["watches.json"])] == ["WATCHING"]
    tokens = orjson.loads(files["access_tokens.json"])
    assert [t["name"] for t in tokens] == ["Zelda's laptop"]
    assert "token_hash" not in tokens[0]
    actions = {e["action"] for e in orjson.loads(files["audit.json"])}
    assert {"user.created", "login", "personal_data.export_requested"} <= actions
    assert [n for n in files if n.startswith("files/")] == [
        f"files/attachments/{node_pk(zelda.attachment_id, 'Attachment')}-zelda-notes.txt"
    ]
    assert FILE in files.values()
    # and none of anybody else's private data
    everything = b"\n".join(files.values()).lower()
    for private in (b"sam@provider.example", b"hold the discount", b"dear zelda quintrell"):
        assert private not in everything
    # and only she (or who asked) may download it, while the link lasts
    export_id = node_pk(str(mine["id"]), "PersonalDataExport")
    path = str(mine["downloadUrl"]).split("?")[0]
    for token in (
        issue_download_token(
            api.settings,
            world.max.id,
            TEST_SESSION,
            export_id,
            kind=DownloadKind.PERSONAL_DATA_EXPORT,
        ),
        issue_download_token(
            api.settings,
            zelda.user.id,
            TEST_SESSION,
            export_id,
            kind=DownloadKind.PERSONAL_DATA_EXPORT,
            now=time.time() - 600,
        ),
    ):
        assert (await client.get(path, params={"token": token})).status_code == 404
    # and after a day the export is gone
    await app.state.jobs.run_due(now=datetime.now(UTC) + timedelta(days=1, minutes=1))
    assert await _exports(api, zelda.user) == []
    tables = Tortoise.apps["models"]
    assert await tables["PersonalDataExport"].all().count() == 0


def test_the_personal_data_map_names_every_column_that_names_a_user(app: Starlette) -> None:
    # given every foreign key to users in the models
    naming = {
        (model._meta.db_table, model._meta.fields_map[name].source_field or f"{name}_id")
        for model in Tortoise.apps["models"].values()
        for name in (*model._meta.fk_fields, *model._meta.o2o_fields)
        if model._meta.fields_map[name].related_model is User
    }
    # then erasure says what it does with each (README "Personal data" lists them)
    mapped = {(holding.table, holding.column) for holding in erasure.ERASURE_MAP}
    assert naming - mapped == set()
