"""Tenant isolation, generated from the schema.

For every query, mutation and subscription field that takes an ID (as an argument or in
its input), and for ``node(id)`` with every type, a document is written from the schema
itself and sent by Globex's lead contact with an Acme object's ID in that one place (every
other ID names an object of Globex's own). The answer must be a refusal that holds no
identifier, name or text of Acme, must read exactly like the answer for an ID that does
not exist, and must change nothing. A new field or argument is covered as soon as it is in
the schema; a new kind of ID argument fails ``test_every_id_argument_is_known`` until it
is named below.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLType,
    GraphQLUnionType,
    Undefined,
)
from starlette.applications import Starlette

from actions import access_tokens, requests, watches
from actions._common import now
from domain.scopes import ALL_SCOPES
from graphql_schema.relay import global_id
from graphql_schema.schema import schema
from models import (
    Attachment,
    BusinessDocument,
    BusinessDocumentKind,
    BusinessDocumentStatus,
    DocumentType,
    DocumentVersion,
    ExpectedDocument,
    Invitation,
    LibraryDocument,
    LibraryFolder,
    Notification,
    Role,
    SecurityAlert,
    SecurityRule,
    WatchLevel,
    WatchTargetKind,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from tests.conftest import Api, gid
from tests.graphql.test_tenant_isolation import acme_ids, answer, row_counts, traces_of_acme
from tests.live import GraphQLSocket, serve
from tests.world import World

SCHEMA = schema._schema

# Which type of object an ID argument names, by the argument's name ("id" takes the
# field's own type; `node` takes every type).
ID_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "projectId": ("Project",),
    "pageId": ("Page",),
    "customerId": ("Customer",),
    "userId": ("User",),
    "actorId": ("User",),
    "micropostId": ("Micropost",),
    "inReplyToId": ("Micropost",),
    "parentId": ("Page",),
    "fromParentId": ("Page",),
    "projectIds": ("Project",),
    "targetId": ("Customer", "Project", "Page", "Topic"),
    "notificationIds": ("Notification",),
    "attachmentId": ("Attachment",),
    "accountTeamIds": ("User",),
    "memberIds": ("User",),
    "invitationId": ("Invitation",),
    "requestId": ("Request",),
    "typeId": ("RequestType",),
    "assigneeId": ("User",),
    "defaultAssigneeId": ("User",),
    "customerIds": ("Customer",),
    "attachmentIds": ("RequestAttachment",),
    "expectedDocumentId": ("ExpectedDocument",),
    "calendarId": ("BusinessCalendar",),
    "tokenId": ("AccessToken",),
    "serviceAccountId": ("ServiceAccount",),
    "endpointId": ("WebhookEndpoint",),
    "deliveryId": ("WebhookDelivery",),
    "folderId": ("LibraryFolder",),
    "parentFolderId": ("LibraryFolder",),
    "byId": ("LibraryDocument",),
    "alertId": ("SecurityAlert",),
}
NODE_TYPES = (
    "Customer",
    "Project",
    "Page",
    "PageRevision",
    "Micropost",
    "User",
    "Topic",
    "Attachment",
    "Watch",
    "Notification",
    "Request",
    "RequestType",
    "BusinessDocument",
    "LibraryFolder",
    "LibraryDocument",
    "DocumentVersion",
)
# Acme's object of each type, as named by `acme_ids` (plus those made here).
ACME = {
    "Customer": "acme",
    "Project": "portal",
    "Page": "portal_page",
    "Micropost": "portal_post",
    "User": "max",
    "PageRevision": "revision",
    "Topic": "topic",
    "Attachment": "attachment",
    "Watch": "watch",
    "Notification": "notification",
    "Invitation": "invitation",
    "Request": "acme_request",
    "RequestType": "acme_type",
    "RequestAttachment": "request_attachment",
    "ExpectedDocument": "expected_document",
    "BusinessCalendar": "calendar",
    "AccessToken": "access_token",
    "ServiceAccount": "service_account",
    "WebhookEndpoint": "webhook_endpoint",
    "WebhookDelivery": "webhook_delivery",
    "BusinessDocument": "business_document",
    "LibraryFolder": "library_folder",
    "LibraryDocument": "library_document",
    "DocumentVersion": "document_version",
    "SecurityAlert": "security_alert",
}
REFUSALS = {"NOT_FOUND", "FORBIDDEN"}
# What an operation needs beyond its required arguments to do anything at all (as JSON
# string literals), so that the refusal tested is the one about the ID.
MEANINGFUL: dict[str, dict[tuple[str, ...], str]] = {
    "updatePage": {("input", "body"): '"A new body"'},
    "movePage": {("input", "fromParentId"): "null"},
    "createServiceAccountToken": {("input", "expiresAt"): '"2099-01-01T00:00:00Z"'},
    **{
        field: {
            ("input", "issueDate"): '"2026-01-05"',
            ("input", "netAmount"): '"100.00"',
            ("input", "grossAmount"): '"119.00"',
            ("input", "currency"): '"EUR"',
        }
        for field in (
            "upsertBusinessDocument",
            "createBusinessDocument",
            "updateBusinessDocument",
        )
    },
}
# Arguments that narrow what is read or done to what the caller may see: a foreign ID
# there matches nothing (an empty list, nothing marked) instead of an error.
FILTERS = {("projects", ("customerId",)), ("markNotificationsRead", ("input", "notificationIds"))}


@dataclass(frozen=True)
class Case:
    root: str  # Query, Mutation or Subscription
    field: str
    path: tuple[str, ...]  # where the Acme ID goes: ("id",) or ("input", "projectId")
    type_name: str  # the type of object it names

    @property
    def id(self) -> str:
        return f"{self.root}.{self.field}({'.'.join(self.path)}: {self.type_name})"


def _named(type_: GraphQLType) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _is_id(type_: GraphQLType) -> bool:
    named = _named(type_)
    return isinstance(named, GraphQLScalarType) and named.name == "ID"


def _id_places(
    args: dict[str, GraphQLArgument] | dict[str, GraphQLInputField], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], str]]:
    for name, arg in args.items():
        if _is_id(arg.type):
            yield (*prefix, name), name
        elif isinstance(_named(arg.type), GraphQLInputObjectType):
            yield from _id_places(_named(arg.type).fields, (*prefix, name))


def _roots() -> Iterator[tuple[str, str, GraphQLField]]:
    for root in (SCHEMA.query_type, SCHEMA.mutation_type, SCHEMA.subscription_type):
        assert root is not None
        for name, field in root.fields.items():
            yield root.name, name, field


def cases() -> list[Case]:
    found = []
    for root, name, field in _roots():
        for path, arg_name in _id_places(field.args):
            if name == "node":
                types: tuple[str, ...] = NODE_TYPES
            elif arg_name == "id":
                types = (_named(field.type).name,)
            else:
                types = ID_ARGUMENTS.get(arg_name, ())
            found += [Case(root, name, path, t) for t in types]
    return found


CASES = cases()


def test_every_id_argument_is_known() -> None:
    unknown = {
        f"{root}.{name}: {'.'.join(path)}"
        for root, name, field in _roots()
        for path, arg_name in _id_places(field.args)
        if arg_name != "id" and arg_name not in ID_ARGUMENTS
    }
    assert unknown == set(), "name the object type these arguments take in ID_ARGUMENTS"


def test_the_generated_suite_covers_every_kind_of_root_field() -> None:
    covered = {(c.root, c.field) for c in CASES}
    assert ("Query", "node") in covered
    assert ("Subscription", "projectTimeline") in covered
    assert ("Subscription", "pagePresence") in covered
    assert sum(1 for c in CASES if c.root == "Mutation") >= 20


# -- writing a document from the schema ------------------------------------------------


def _value(type_: GraphQLType, path: tuple[str, ...], ids: dict[tuple[str, ...], str]) -> str:
    """A literal for an argument: the chosen value where there is one, else a plain value."""
    if path in ids:
        chosen = ids[path]
        return chosen if chosen.startswith('"') or chosen == "null" else f'"{chosen}"'
    list_of = isinstance(type_, GraphQLNonNull) and isinstance(type_.of_type, GraphQLList)
    list_of = list_of or isinstance(type_, GraphQLList)
    named = _named(type_)
    if isinstance(named, GraphQLInputObjectType):
        inner = ", ".join(
            f"{name}: {_value(f.type, (*path, name), ids)}"
            for name, f in named.fields.items()
            if _given(f, (*path, name), ids)
        )
        literal = f"{{{inner}}}"
    elif isinstance(named, GraphQLEnumType):
        literal = next(iter(named.values))
    elif named.name == "Int":
        literal = "1"
    elif named.name == "Boolean":
        literal = "true"
    else:
        literal = '"x"'
    return f"[{literal}]" if list_of else literal


def _given(
    arg: GraphQLArgument | GraphQLInputField, path: tuple[str, ...], ids: dict[tuple[str, ...], str]
) -> bool:
    """Send what is required, and whatever holds one of the chosen IDs."""
    return _required(arg) or any(p[: len(path)] == path for p in ids)


def _required(arg: GraphQLArgument | GraphQLInputField) -> bool:
    return isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined


def _selection(type_: GraphQLType) -> str:
    named = _named(type_)
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
        return " { __typename }"
    return ""


def _required_places(field: GraphQLField) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every ID that must be given (required, at any depth of a required input)."""

    def walk(
        args: dict[str, GraphQLArgument] | dict[str, GraphQLInputField], prefix: tuple[str, ...]
    ) -> Iterator[tuple[tuple[str, ...], str]]:
        for name, arg in args.items():
            if not _required(arg):
                continue
            if _is_id(arg.type):
                yield (*prefix, name), name
            elif isinstance(_named(arg.type), GraphQLInputObjectType):
                yield from walk(_named(arg.type).fields, (*prefix, name))

    yield from walk(field.args, ())


GLOBEX = {
    "Customer": "globex",
    "Project": "loyalty",
    "Page": "loyalty_page",
    "Micropost": "loyalty_post",
    "User": "gus",
    "Request": "globex_request",
    "RequestType": "globex_type",
    "BusinessCalendar": "calendar",
    "LibraryDocument": "globex_library_document",
}


def document(case: Case, foreign: str, world: World) -> str:
    root_type = {"Query": SCHEMA.query_type, "Mutation": SCHEMA.mutation_type}.get(
        case.root, SCHEMA.subscription_type
    )
    assert root_type is not None
    field = root_type.fields[case.field]
    ids: dict[tuple[str, ...], str] = {**MEANINGFUL.get(case.field, {}), case.path: foreign}
    for path, arg_name in _required_places(field):
        if path != case.path:
            own_type = ID_ARGUMENTS.get(arg_name, ("Project",))[0]
            ids[path] = gid(getattr(world, GLOBEX[own_type]))
    arguments = ", ".join(
        f"{name}: {_value(arg.type, (name,), ids)}"
        for name, arg in field.args.items()
        if _given(arg, (name,), ids)
    )
    call = f"{case.field}({arguments})" if arguments else case.field
    keyword = {"Query": "query", "Mutation": "mutation"}.get(case.root, "subscription")
    return f"{keyword} {{ {call}{_selection(field.type)} }}"


# -- the attack ---------------------------------------------------------------------------


@pytest.fixture
async def acme(api: Api, world: World) -> dict[str, str]:
    """Global IDs of an Acme object of every type."""
    ids = await acme_ids(api, world)
    attachment = await Attachment.create(
        page_id=world.portal_page.id,
        name="acme-quote.pdf",
        version=1,
        content_type="application/pdf",
        size=3,
        content_key="0" * 64,
        uploaded_by_id=world.sam.id,
    )
    watch = await watches.watch(
        world.max,
        kind=WatchTargetKind.PROJECT,
        target_id=world.portal.id,
        level=WatchLevel.WATCHING,
    )
    notification = await Notification.filter(user_id=world.max.id).first()
    assert notification is not None, "the world mentions max, so he has a notification"
    upload = await requests.record_upload(
        world.max,
        customer_id=world.acme.id,
        name="acme-photo.png",
        content_type="image/png",
        size=3,
        content_key="0" * 64,
    )
    document = await ExpectedDocument.create(request_id=world.acme_request.id, name="Acme plan")
    invitation = await Invitation.create(
        customer_id=world.acme.id,
        email="invited@acme.example",
        name="Acme Invitee",
        role=Role.CUSTOMER_MEMBER,
        invited_by_id=world.anna.id,
        token_hash="0" * 64,
        expires_at=now() + timedelta(days=1),
    )
    token = await access_tokens.create_access_token(
        world.anna,
        name="Acme report",
        scopes=["projects:read"],
        expires_at=now() + timedelta(days=1),
    )
    service_account = await access_tokens.create_service_account(
        world.admin, name="Acme sync", role=Role.CUSTOMER_ADMIN, customer_id=world.acme.id
    )
    endpoint = await WebhookEndpoint.create(
        owner_id=world.anna.id,
        url="https://hooks.acme.example/extranet",
        customer_id=world.acme.id,
        secret="whsec_" + "A" * 44,
    )
    delivery = await WebhookDelivery.create(
        endpoint_id=endpoint.id,
        event_id=1,
        event_type="MICROPOST_POSTED",
        webhook_id=f"msg_{endpoint.id}_1",
        attempt=1,
        status=WebhookDeliveryStatus.SUCCEEDED,
    )
    business_document = await BusinessDocument.create(
        customer_id=world.acme.id,
        project_id=world.portal.id,
        kind=BusinessDocumentKind.QUOTE,
        number="Q-ACME-1",
        title="Acme racking quote",
        issue_date=now().date(),
        net_amount=Decimal("100.00"),
        gross_amount=Decimal("119.00"),
        currency="EUR",
        status=BusinessDocumentStatus.SENT,
        published_by_id=world.sam.id,
    )
    library_folder = await LibraryFolder.create(customer_id=world.acme.id, name="Acme contracts")
    library_document = await LibraryDocument.create(
        customer_id=world.acme.id,
        folder_id=library_folder.id,
        title="Acme framework contract",
        type=DocumentType.CONTRACT,
        owner_id=world.sam.id,
        valid_from=now() - timedelta(days=1),
        requires_acknowledgement=True,
    )
    document_version = await DocumentVersion.create(
        document_id=library_document.id,
        number=1,
        name="acme-contract.pdf",
        content_key="0" * 64,
        size=3,
        content_type="application/pdf",
        uploaded_by_id=world.sam.id,
    )
    security_alert = await SecurityAlert.create(
        rule=SecurityRule.DOWNLOAD_BURST,
        subject_key=f"user:{world.max.id}",
        user_id=world.max.id,
        customer_id=world.acme.id,
        first_seen_at=now(),
        last_seen_at=now(),
    )
    return {
        **ids,
        "security_alert": global_id("SecurityAlert", security_alert.id),
        "library_folder": global_id("LibraryFolder", library_folder.id),
        "library_document": global_id("LibraryDocument", library_document.id),
        "document_version": global_id("DocumentVersion", document_version.id),
        "business_document": global_id("BusinessDocument", business_document.id),
        "webhook_endpoint": global_id("WebhookEndpoint", endpoint.id),
        "webhook_delivery": global_id("WebhookDelivery", delivery.id),
        "access_token": global_id("AccessToken", token.row.id),
        "service_account": global_id("ServiceAccount", service_account.id),
        "invitation": global_id("Invitation", invitation.id),
        "attachment": gid(attachment),
        "watch": gid(watch),
        "notification": gid(notification),
        "acme_request": gid(world.acme_request),
        "acme_type": gid(world.acme_type),
        "request_attachment": global_id("RequestAttachment", upload.id),
        "expected_document": global_id("ExpectedDocument", document.id),
        "calendar": gid(world.calendar),
    }


@pytest.fixture
async def address(app: Starlette) -> AsyncIterator[str]:
    async with serve(app) as host_and_port:
        yield host_and_port


def _refused(body: dict[str, Any], field: str) -> list[str]:
    assert (body.get("data") or {}).get(field) is None, body
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
    assert codes, body
    assert set(codes) <= REFUSALS, body
    return codes


@pytest.mark.parametrize("case", [c for c in CASES if c.root != "Subscription"], ids=lambda c: c.id)
async def test_an_acme_id_anywhere_is_refused_like_a_missing_one(
    api: Api, world: World, acme: dict[str, str], case: Case
) -> None:
    before = await row_counts()
    foreign = await api(document(case, acme[ACME[case.type_name]], world), as_user=world.gina)
    absent = await api(document(case, global_id(case.type_name, 999999), world), as_user=world.gina)
    if (case.field, case.path) not in FILTERS:
        _refused(foreign.body, case.field)
    assert answer(foreign) == answer(absent)
    assert traces_of_acme(foreign, acme) == []
    assert await row_counts() == before


@pytest.fixture
async def globex_service_account(world: World) -> str:
    """A token of Globex's own service account (a lead contact's role), with every scope."""
    account = await access_tokens.create_service_account(
        world.admin, name="Globex sync", role=Role.CUSTOMER_ADMIN, customer_id=world.globex.id
    )
    made = await access_tokens.create_service_account_token(
        world.admin,
        service_account_id=account.id,
        name="all areas",
        scopes=list(ALL_SCOPES),
        expires_at=now() + timedelta(days=1),
    )
    return made.token


# A customer-confined service account is a user of a contact's role (gina's, above): its
# reads through each kind of scope check (an object's field, node with the scope of the
# ID's type, a filter), and what only integrations write.
SERVICE_ACCOUNT_FIELDS = {
    "customer",
    "project",
    "page",
    "projects",
    "upsertProject",
    "upsertContact",
}
SERVICE_ACCOUNT_CASES = [
    c
    for c in CASES
    if c.field in SERVICE_ACCOUNT_FIELDS
    or (c.field == "node" and c.type_name in ("Customer", "Project", "Page", "User"))
]


@pytest.mark.parametrize("case", SERVICE_ACCOUNT_CASES, ids=lambda c: c.id)
async def test_an_acme_id_sent_by_globexs_service_account_is_refused_like_a_missing_one(
    api: Api, world: World, acme: dict[str, str], globex_service_account: str, case: Case
) -> None:
    token = globex_service_account
    before = await row_counts()
    foreign = await api(document(case, acme[ACME[case.type_name]], world), token=token)
    absent = await api(document(case, global_id(case.type_name, 999999), world), token=token)
    if (case.field, case.path) not in FILTERS:
        _refused(foreign.body, case.field)
    assert answer(foreign) == answer(absent)
    assert traces_of_acme(foreign, acme) == []
    assert await row_counts() == before


@pytest.mark.parametrize("case", [c for c in CASES if c.root == "Subscription"], ids=lambda c: c.id)
async def test_an_acme_id_in_a_subscription_is_refused_like_a_missing_one(
    api: Api, world: World, acme: dict[str, str], case: Case, address: str
) -> None:
    answers = []
    for value in (acme[ACME[case.type_name]], global_id(case.type_name, 999999)):
        async with GraphQLSocket.open(address, api.token_for(world.gina)) as sock:
            assert (await sock.receive())["type"] == "connection_ack"
            await sock.subscribe("1", document(case, value, world), {})
            message = await sock.receive()
            text = str(message)
            assert "acme" not in text.lower(), message
            assert value not in text or value == global_id(case.type_name, 999999)
            if message["type"] == "error":
                errors = message["payload"]
            else:
                assert message["type"] == "next", message
                errors = message["payload"].get("errors") or []
            codes = [e.get("extensions", {}).get("code") for e in errors]
            assert codes, message
            assert set(codes) <= REFUSALS, message
            answers.append([{k: v for k, v in e.items() if k != "locations"} for e in errors])
    assert answers[0] == answers[1]
