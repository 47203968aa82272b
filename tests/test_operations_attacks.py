"""Operations under attack: erasing staff and lead contacts whose name, address and handle
sit in every kind of text the product keeps; the audit chain after rows are removed or
reordered by hand."""

from __future__ import annotations

import io
import logging
import zipfile
from datetime import UTC, date, datetime, timedelta

import httpx
from starlette.applications import Starlette
from tortoise import Tortoise, connections

from actions import access_tokens, accounts, audit, microposts, pages, requests
from app.db import is_postgres
from app.metrics import OperationNames
from graphql_schema.relay import global_id
from infra.logging import JsonFormatter
from infra.settings import Settings
from models import AuditEntry, Role, User
from realtime.bus import EventBus
from tests.conftest import Api, gid
from tests.test_personal_data import ERASE, EXPORT, EXPORTS, _database_dump
from tests.world import TICKET_ANSWERS, World

PEOPLE = {
    "staff": ("Quorra Vantablack", "quorra.vantablack@provider.example", Role.STAFF),
    "lead": ("Ulysse Brimblecombe", "ulysse.brimblecombe@acme.example", Role.CUSTOMER_ADMIN),
    "member": ("Jürgen Müllerström", "juergen.muellerstroem@acme.example", Role.CUSTOMER_MEMBER),
}


def _traces(name: str, email: str) -> tuple[str, ...]:
    return (name.lower(), name.split()[1].lower(), email)


async def _plant(person: User, world: World, bus: EventBus) -> None:
    """Others write about ``person`` in every kind of text kept: request titles, answers and
    next steps, status reasons, drafts, library notes and extracted text, business document
    notes, alert notes, webhook receivers' answers, stored idempotent answers, job payloads,
    searches, project descriptions and customers' internal notes."""
    name, email, handle = person.name, person.email, f"@{person.handle}"
    about = f"{name} ({email}, {handle})"
    models = Tortoise.apps["models"]
    await microposts.post_micropost(
        world.max, bus, project_id=world.portal.id, body=f"Ask {handle} about the pallets"
    )
    await microposts.post_micropost(
        world.sam, bus, project_id=world.portal.id, body=f"THANKS {name.upper()}!"
    )
    await pages.update_page(
        world.sam,
        bus,
        page_id=world.portal_page.id,
        base_revision=(await models["Page"].get(id=world.portal_page.id)).revision,
        body=f"# Goals\nOwner: {handle}",
        summary=f"as {name} asked",
    )
    request = await requests.submit_request(
        world.max,
        bus,
        type_id=world.support_type.id,
        title=f"Access for {name.lower()}",
        answers={**TICKET_ANSWERS, "description": f"Please add {email} to the portal."},
    )
    await models["ServiceRequest"].filter(id=request.id).update(next_step=f"Call {name}")
    await models["RequestStatusChange"].create(
        request_id=request.id, actor_id=world.sam.id, reason=f"{name} is away", **_status()
    )
    await models["ProjectStatusChange"].create(
        project_id=world.pilot.id,
        actor_id=world.sam.id,
        reason=f"waiting for {name}",
        from_status="PROPOSED",
        to_status="ACTIVE",
    )
    await models["PageDraft"].create(
        page_id=world.portal_page.id,
        author_id={Role.STAFF: world.stan, Role.CUSTOMER_ADMIN: world.sam}.get(
            person.role, world.olivia
        ).id,
        base_revision=1,
        body=about,
    )
    await (
        models["LibraryDocument"]
        .filter(id=world.globex_library_document.id)
        .update(description=f"Reviewed by {name}")
    )
    await models["DocumentVersion"].create(
        document_id=world.globex_library_document.id,
        number=person.id,
        name="signed.pdf",
        content_key="3" * 64,
        content_type="application/pdf",
        size=1,
        uploaded_by_id=world.olivia.id,
        note=f"signed by {name}",
        text=f"Signatory: {about}",
    )
    await models["Project"].filter(id=world.pilot.id).update(description=f"Sponsor: {about}")
    await models["Customer"].filter(id=world.acme.id).update(internal_notes=f"Ask {name}")
    await models["SearchCount"].create(
        customer_id=world.acme.id, day=date.today(), terms=name.lower(), searches=2
    )
    await models["Job"].create(
        kind="test.note", payload={"about": name}, run_at=datetime.now(UTC) + timedelta(days=9)
    )
    await models["IdempotentRequest"].create(
        caller="token:1",
        key=f"k-{person.id}",
        request_hash="4" * 64,
        status=200,
        media_type="application/json",
        body=f'{{"data": {{"upsertContact": {{"name": "{name}", "email": "{email}"}}}}}}',
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    endpoint = await models["WebhookEndpoint"].create(
        owner_id=world.admin.id, url="https://hooks.example/erp", secret="whsec_x"
    )
    await models["WebhookDelivery"].create(
        endpoint_id=endpoint.id, **_delivery(), response_body=f"echo: {about}"
    )
    await models["SecurityAlert"].create(
        rule="DOWNLOAD_BURST",
        subject_key="x",
        details={"note": about},
        first_seen_at=datetime.now(UTC),
        last_seen_at=datetime.now(UTC),
        resolution_note=f"{name} was travelling",
    )


def _status() -> dict[str, object]:
    return {"from_status": "RECEIVED", "to_status": "IN_PROGRESS"}


def _delivery() -> dict[str, object]:
    return {
        "event_id": 1,
        "event_type": "micropost.posted",
        "webhook_id": "wh-1",
        "attempt": 1,
        "status": "FAILED",
    }


async def test_erased_staff_and_lead_contacts_leave_no_trace_in_any_text(
    app: Starlette, api: Api, world: World, bus: EventBus, settings: Settings
) -> None:
    for kind, (name, email, role) in PEOPLE.items():
        # given a staff member or a lead contact whom others wrote about everywhere
        person = await accounts.create_user(
            email=email,
            name=name,
            role=role,
            password=None,
            customer=None if role is Role.STAFF else world.acme,
        )
        await _plant(person, world, bus)
        dump = (await _database_dump(settings)).lower()
        assert all(trace in dump for trace in _traces(name, email)), kind
        # when Acme's lead contact tries to erase the staff member, then an administrator
        if role is Role.STAFF:
            refused = await api(ERASE, {"id": gid(person)}, as_user=world.anna)
            assert refused.codes == ["FORBIDDEN"]
        erased = await api(ERASE, {"id": gid(person)}, as_user=world.admin)
        assert erased.errors == [], kind
        # then no text anywhere holds their name, surname or address
        dump = (await _database_dump(settings)).lower()
        left = [line for line in dump.splitlines() if any(t in line for t in _traces(name, email))]
        assert left == [], "\n".join(left)
        # not even in the words of SQLite's full-text index
        if not is_postgres(settings.database_url):
            _, blocks = await connections.get("default").execute_query(
                "SELECT id FROM search_fts_data WHERE instr(block, CAST(? AS BLOB)) > 0",
                [name.split()[1].lower()],
            )
            assert blocks == [], kind
    # and a lead contact cannot erase another customer's contact
    assert (await api(ERASE, {"id": gid(world.gus)}, as_user=world.anna)).codes == ["NOT_FOUND"]
    assert (await audit.verify()).broken is None


async def test_verify_audit_names_an_entry_removed_or_moved_by_hand(
    app: Starlette, world: World
) -> None:
    # given the audited making of the world, sealed into one chain
    await audit.seal()
    entries = await AuditEntry.filter(sequence__not_isnull=True).order_by("sequence")
    assert len(entries) > 4
    assert (await audit.verify()).broken is None
    conn = connections.get("default")
    second, third = entries[1], entries[2]
    # when two entries swap places
    await conn.execute_query(f"UPDATE audit_entries SET sequence = -1 WHERE id = {second.id}")  # noqa: S608
    await conn.execute_query(
        f"UPDATE audit_entries SET sequence = {second.sequence} WHERE id = {third.id}"  # noqa: S608
    )
    await conn.execute_query(
        f"UPDATE audit_entries SET sequence = {third.sequence} WHERE id = {second.id}"  # noqa: S608
    )
    # then the check names the one now in second place
    moved = (await audit.verify()).broken
    assert moved is not None
    assert moved.id == third.id
    # when instead the second entry is deleted
    await conn.execute_query(f"DELETE FROM audit_entries WHERE id = {second.id}")  # noqa: S608
    await conn.execute_query(
        f"UPDATE audit_entries SET sequence = {third.sequence} WHERE id = {third.id}"  # noqa: S608
    )
    # then the check names the entry after the gap
    removed = (await audit.verify()).broken
    assert removed is not None
    assert (removed.id, "missing" in removed.reason) == (third.id, True)


def test_log_lines_keep_no_link_token_or_secret_of_any_kind() -> None:
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(JsonFormatter())
    careless = logging.getLogger("extranet.careless")
    careless.addHandler(handler)
    try:
        # when uvicorn logs an unsubscribe link opened, and careless lines name other secrets
        careless.warning(
            '%s - "%s %s HTTP/%s" %d',
            "203.0.113.9",
            "GET",
            "/mail/unsubscribe/UnSub-42",
            "1.1",
            200,
        )
        careless.warning("retry ?refresh_token=RefTok3n-value&access_token=AccTok3n-value")
        careless.warning("mfa_token=MfaTok3n-value reset_password=ResetPw-value")
        careless.warning("endpoint made, signing with whsec_U2VjcmV0LXZhbHVl+/Zz==")
        careless.warning('variables {"token": "InvTok3n-value", "newPassword": "NewPw-value"}')
        careless.warning("to reply+abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopq@x.example")
    finally:
        careless.removeHandler(handler)
    # then none of the secrets is in the log
    text = output.getvalue()
    assert text.count("\n") == 6
    for secret in ("UnSub-42", "RefTok3n", "AccTok3n", "MfaTok3n", "ResetPw", "U2VjcmV0",
                   "InvTok3n", "NewPw-value", "abcdefghijklmnopqrstuvwxyz234567"):  # fmt: skip
        assert secret not in text, text


async def test_an_export_does_not_tell_which_ids_of_other_customers_exist(
    app: Starlette, api: Api, world: World, client: httpx.AsyncClient
) -> None:
    # given a contact who asked for another customer's project and for a project that is not
    missing = "query Probe($id: ID!) { project(id: $id) { id } }"
    for target in (gid(world.loyalty), global_id("Project", 99_999)):
        assert (await api(missing, {"id": target}, as_user=world.max)).codes == ["NOT_FOUND"]
    await app.state.graphql.process.denials.settled()
    assert await AuditEntry.filter(action="permission.denied", actor_id=world.max.id).exists()
    # when she exports her data
    assert (await api(EXPORT, as_user=world.max)).errors == []
    await app.state.jobs.run_due()
    [ready] = (await api(EXPORTS, as_user=world.max)).data["myDataExports"]
    archive = zipfile.ZipFile(io.BytesIO((await client.get(ready["downloadUrl"])).content))
    audit_json = archive.read("audit.json").decode()
    # then her refusals are there, but nothing names the other customer's project
    assert "permission.denied" in audit_json
    assert f"Project:{world.loyalty.id}" not in audit_json
    assert "outside_scope" not in audit_json


async def test_a_service_account_is_no_person_to_erase(api: Api, world: World) -> None:
    # given an integration the administrator made for Acme, with a token
    account = await access_tokens.create_service_account(
        world.admin, name="Acme ERP", role=Role.CUSTOMER_MEMBER, customer_id=world.acme.id
    )
    machine = await User.get(id=account.user_id)
    # when Acme's lead contact, then the administrator, try to erase its user
    by_lead = await api(ERASE, {"id": gid(machine)}, as_user=world.anna)
    by_admin = await api(ERASE, {"id": gid(machine)}, as_user=world.admin)
    # then neither may: it is deactivated as a service account, not erased as a person
    assert by_lead.codes == ["FORBIDDEN"]
    assert by_admin.codes == ["BAD_USER_INPUT"]
    assert (await User.get(id=machine.id)).erased_at is None


def test_operation_labels_are_names_of_the_document_sent() -> None:
    # given room for many names
    names = OperationNames([], 100)
    document = "query Account { me { id } }"
    # when callers send operation names that are no names, or none of the document's
    for junk in ('x"} 1\n# HELP', "Ghost", "a" * 99 + "-", "Émile"):
        # then they count as the others, and the document's own name as itself
        assert names.label(junk, document) == "_other"
    assert names.label("Account", document) == "Account"
    assert names.label(None, document) == "Account"
