"""Who may read which field and run which mutation: deny by default, declared on the field."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, NamedTuple

import pytest
from strawberry.permission import BasePermission, PermissionExtension
from tortoise import Tortoise

from graphql_schema.relay import global_id
from graphql_schema.schema import schema
from models import (
    Customer,
    CustomerEmailDomain,
    Invitation,
    Micropost,
    PersistedDocument,
    Project,
    ProjectMembership,
    ProjectStatusChange,
    User,
)
from tests.conftest import Api, gid
from tests.world import World

# Public: they identify the person themselves (a password, a token, a code).
PUBLIC = {
    "login",
    "refreshSession",
    "logout",
    "acceptInvitation",
    "completeLogin",
    "enrollTotp",
    "confirmTotp",
    "requestPasswordReset",
    "resetPassword",
}

CUSTOMER_NOTES = "query($id: ID!) { customer(id: $id) { name internalNotes } }"
CUSTOMER_BUDGET = "query($id: ID!) { customer(id: $id) { name annualBudget } }"
PROJECT_BUDGET = "query($id: ID!) { project(id: $id) { name budget } }"
USER_EMAIL = "query($id: ID!) { node(id: $id) { ... on User { name email } } }"

CREATE_CUSTOMER = """
mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { name } } }
"""
CREATE_PROJECT = """
mutation($input: CreateProjectInput!) { createProject(input: $input) { project { name } } }
"""
CHANGE_STATUS = """
mutation($input: ChangeProjectStatusInput!) {
  changeProjectStatus(input: $input) { project { status } }
}
"""
POST_MICROPOST = """
mutation($input: PostMicropostInput!) {
  postMicropost(input: $input) { micropost { body visibility } }
}
"""
SET_EMAIL_DOMAINS = """
mutation($input: SetCustomerEmailDomainsInput!) {
  setCustomerEmailDomains(input: $input) { customer { emailDomains } }
}
"""
INVITE_CONTACT = """
mutation($input: InviteContactInput!) {
  inviteContact(input: $input) { invitation { name } invitationToken }
}
"""
ADD_MEMBER = """
mutation($input: ProjectMemberInput!) {
  addProjectMember(input: $input) { user { name } }
}
"""
REGISTER_PERSISTED_QUERY = """
mutation($input: RegisterPersistedQueryInput!) {
  registerPersistedQuery(input: $input) { persistedQuery { sha256Hash } }
}
"""

_P, _C, _PG = global_id("Project", 1), global_id("Customer", 1), global_id("Page", 1)
_U, _M = global_id("User", 1), global_id("Micropost", 1)
_R, _RT = global_id("Request", 1), global_id("RequestType", 1)
_WE = global_id("WebhookEndpoint", 1)
# A valid document for every protected root field, sent without a token.
_BD = "QnVzaW5lc3NEb2N1bWVudDox"  # BusinessDocument:1
_BD_FIELDS = (
    '{kind: INVOICE, number: "1", title: "x", issueDate: "2026-01-01", netAmount: "1.00", '
    'grossAmount: "1.19", currency: "EUR"}'
)
ANONYMOUS_DOCUMENTS = {
    "me": "{ me { name } }",
    "node": f'{{ node(id: "{_P}") {{ id }} }}',
    "customers": "{ customers { totalCount } }",
    "customer": f'{{ customer(id: "{_C}") {{ name }} }}',
    "projects": "{ projects { totalCount } }",
    "project": f'{{ project(id: "{_P}") {{ name }} }}',
    "page": f'{{ page(id: "{_PG}") {{ title }} }}',
    "topic": '{ topic(name: "launch") { name } }',
    "watches": "{ watches { totalCount } }",
    "notifications": "{ notifications { unreadCount } }",
    "dashboard": "{ dashboard { actionCount } }",
    "kpis": "{ kpis { submitted { value } } }",
    "mailPreferences": "{ mailPreferences { timeZone } }",
    "inviteContact": f'mutation {{ inviteContact(input: {{customerId: "{_C}", '
    'email: "x@acme.example", name: "X"}) { invitationToken } }',
    "createCustomer": 'mutation { createCustomer(input: {name: "X"}) { customer { name } } }',
    "createProject": f'mutation {{ createProject(input: {{customerId: "{_C}", name: "X"}}) '
    "{ project { name } } }",
    "addProjectMember": f'mutation {{ addProjectMember(input: {{projectId: "{_P}", '
    f'userId: "{_U}"}}) {{ user {{ name }} }} }}',
    "removeProjectMember": f'mutation {{ removeProjectMember(input: {{projectId: "{_P}", '
    f'userId: "{_U}"}}) {{ user {{ name }} }} }}',
    "changeProjectStatus": f'mutation {{ changeProjectStatus(input: {{projectId: "{_P}", '
    "status: ACTIVE}) { project { status } } }",
    "postMicropost": f'mutation {{ postMicropost(input: {{projectId: "{_P}", body: "x"}}) '
    "{ micropost { body } } }",
    "editMicropost": f'mutation {{ editMicropost(input: {{micropostId: "{_M}", body: "x"}}) '
    "{ micropost { body } } }",
    "createPage": f'mutation {{ createPage(input: {{projectId: "{_P}", title: "x"}}) '
    "{ page { title } } }",
    "updatePage": f'mutation {{ updatePage(input: {{pageId: "{_PG}", baseRevision: 1, '
    'body: "x"}) { page { body } } }',
    "restorePageRevision": f'mutation {{ restorePageRevision(input: {{pageId: "{_PG}", '
    "revision: 1, baseRevision: 1}) { page { body } } }",
    "search": '{ search(query: "portal") { totalCount } }',
    "requestTypes": "{ requestTypes { name } }",
    "requests": "{ requests { totalCount } }",
    "request": f'{{ request(id: "{_R}") {{ number }} }}',
    "businessCalendars": "{ businessCalendars { name } }",
    "submitRequest": f'mutation {{ submitRequest(input: {{typeId: "{_RT}", title: "x", '
    "answers: {}}) { request { number } } }",
    "replyToRequest": f'mutation {{ replyToRequest(input: {{requestId: "{_R}", body: "x"}}) '
    "{ message { body } } }",
    "changeRequestStatus": f'mutation {{ changeRequestStatus(input: {{requestId: "{_R}", '
    "status: IN_PROGRESS}) { request { status } } }",
    "assignRequest": f'mutation {{ assignRequest(input: {{requestId: "{_R}"}}) '
    "{ request { status } } }",
    "addRequestParticipant": "mutation { addRequestParticipant(input: "
    f'{{requestId: "{_R}", userId: "{_U}"}}) {{ request {{ status }} }} }}',
    "setRequestDueDate": f'mutation {{ setRequestDueDate(input: {{requestId: "{_R}"}}) '
    "{ request { status } } }",
    "withdrawRequest": f'mutation {{ withdrawRequest(input: {{requestId: "{_R}"}}) '
    "{ request { status } } }",
    "reopenRequest": f'mutation {{ reopenRequest(input: {{requestId: "{_R}"}}) '
    "{ request { status } } }",
    "createRequestType": 'mutation { createRequestType(input: {name: "x", form: {}}) '
    "{ requestType { name } } }",
    "updateRequestType": f'mutation {{ updateRequestType(input: {{typeId: "{_RT}"}}) '
    "{ requestType { name } } }",
    "setSlaPolicy": f'mutation {{ setSlaPolicy(input: {{typeId: "{_RT}", '
    f'calendarId: "{global_id("BusinessCalendar", 1)}"}}) '
    "{ slaPolicy { resolutionMinutes } } }",
    "setBusinessCalendar": 'mutation { setBusinessCalendar(input: {name: "x", definition: {}}) '
    "{ calendar { name } } }",
    "auditLog": "{ auditLog { totalCount } }",
    "securityAlerts": "{ securityAlerts { totalCount } }",
    "acknowledgeSecurityAlert": "mutation { acknowledgeSecurityAlert(input: "
    '{alertId: "U2VjdXJpdHlBbGVydDox"}) { securityAlert { state } } }',
    "resolveSecurityAlert": "mutation { resolveSecurityAlert(input: "
    '{alertId: "U2VjdXJpdHlBbGVydDox"}) { securityAlert { state } } }',
    "myDataExports": "{ myDataExports { status } }",
    "exportMyData": "mutation { exportMyData { export { status } } }",
    "eraseUser": f'mutation {{ eraseUser(input: {{userId: "{_U}"}}) {{ user {{ name }} }} }}',
    "addPageWatcher": f'mutation {{ addPageWatcher(input: {{pageId: "{_PG}", userId: "{_U}"}}) '
    "{ watcher { level } } }",
    "movePage": f'mutation {{ movePage(input: {{pageId: "{_PG}", fromParentId: null}}) '
    "{ page { id } } }",
    "setPageEditing": f'mutation {{ setPageEditing(input: {{pageId: "{_PG}", editing: true}}) '
    "{ editing } }",
    "discardPageDraft": f'mutation {{ discardPageDraft(input: {{pageId: "{_PG}"}}) '
    "{ discarded } }",
    "deleteAttachment": "mutation { deleteAttachment(input: "
    f'{{attachmentId: "{global_id("Attachment", 1)}"}}) {{ deletedAttachmentId }} }}',
    "watch": f'mutation {{ watch(input: {{targetId: "{_P}"}}) {{ watch {{ level }} }} }}',
    "unwatch": f'mutation {{ unwatch(input: {{targetId: "{_P}"}}) {{ removed }} }}',
    "markNotificationsRead": "mutation { markNotificationsRead(input: {}) { marked } }",
    "setMailPreferences": "mutation { setMailPreferences(input: {}) { preferences { timeZone } } }",
    "setCustomerEmailDomains": "mutation { setCustomerEmailDomains(input: "
    f'{{customerId: "{_C}", domains: ["x.example"]}}) {{ customer {{ name }} }} }}',
    "removeContact": f'mutation {{ removeContact(input: {{userId: "{_U}"}}) '
    "{ contact { name } } }",
    "registerPersistedQuery": 'mutation { registerPersistedQuery(input: {query: "{ me { id } }"}) '
    "{ created } }",
    "disableTotp": 'mutation { disableTotp(input: {password: "x", code: "123456"}) { disabled } }',
    "regenerateRecoveryCodes": "mutation { regenerateRecoveryCodes(input: "
    '{password: "x", code: "123456"}) { recoveryCodes } }',
    "setMfaRequirement": "mutation { setMfaRequirement(input: {required: true}) "
    "{ staffRequired } }",
    "changePassword": 'mutation { changePassword(input: {currentPassword: "x", '
    'newPassword: "y"}) { otherSessionsEnded } }',
    "updateMyProfile": 'mutation { updateMyProfile(input: {locale: "en"}) { user { name } } }',
    "unlockUser": f'mutation {{ unlockUser(input: {{userId: "{_U}"}}) {{ user {{ name }} }} }}',
    "deactivateUser": f'mutation {{ deactivateUser(input: {{userId: "{_U}"}}) '
    "{ user { name } } }",
    "reactivateUser": f'mutation {{ reactivateUser(input: {{userId: "{_U}"}}) '
    "{ user { name } } }",
    "pendingInvitations": f'{{ pendingInvitations(customerId: "{_C}") {{ email }} }}',
    "resendInvitation": "mutation { resendInvitation(input: "
    f'{{invitationId: "{global_id("Invitation", 1)}"}}) {{ invitation {{ email }} }} }}',
    "revokeInvitation": "mutation { revokeInvitation(input: "
    f'{{invitationId: "{global_id("Invitation", 1)}"}}) {{ invitation {{ email }} }} }}',
    "accessTokens": "{ accessTokens { name } }",
    "serviceAccounts": "{ serviceAccounts { name } }",
    "createAccessToken": 'mutation { createAccessToken(input: {name: "x", scopes: '
    '["projects:read"], expiresAt: "2099-01-01T00:00:00Z"}) { token } }',
    "revokeAccessToken": 'mutation { revokeAccessToken(input: {tokenId: "QWNjZXNzVG9rZW46MQ=="}) '
    "{ accessToken { name } } }",
    "createServiceAccount": 'mutation { createServiceAccount(input: {name: "x", role: STAFF}) '
    "{ serviceAccount { name } } }",
    "createServiceAccountToken": "mutation { createServiceAccountToken(input: "
    '{serviceAccountId: "U2VydmljZUFjY291bnQ6MQ==", name: "x", scopes: ["projects:read"], '
    'expiresAt: "2099-01-01T00:00:00Z"}) { token } }',
    "deactivateServiceAccount": "mutation { deactivateServiceAccount(input: "
    '{serviceAccountId: "U2VydmljZUFjY291bnQ6MQ=="}) { serviceAccount { name } } }',
    "upsertCustomer": 'mutation { upsertCustomer(input: {source: "crm", externalId: "1", '
    'name: "x"}) { created } }',
    "upsertProject": 'mutation { upsertProject(input: {source: "crm", externalId: "1", '
    'name: "x", customerExternalId: "1"}) { created } }',
    "upsertContact": 'mutation { upsertContact(input: {source: "crm", externalId: "1", '
    'name: "x", email: "x@acme.example", customerExternalId: "1"}) { created } }',
    "webhookEndpoints": "{ webhookEndpoints { url } }",
    "webhookEndpoint": f'{{ webhookEndpoint(id: "{_WE}") {{ url }} }}',
    "webhookEvents": f'{{ webhookEvents(endpointId: "{_WE}") {{ type }} }}',
    "createWebhookEndpoint": "mutation { createWebhookEndpoint(input: "
    '{url: "https://hooks.example/x", eventTypes: []}) { webhookEndpoint { url } } }',
    "updateWebhookEndpoint": "mutation { updateWebhookEndpoint(input: "
    f'{{endpointId: "{_WE}"}}) {{ webhookEndpoint {{ url }} }} }}',
    "rotateWebhookSecret": "mutation { rotateWebhookSecret(input: "
    f'{{endpointId: "{_WE}"}}) {{ webhookEndpoint {{ url }} }} }}',
    "enableWebhookEndpoint": "mutation { enableWebhookEndpoint(input: "
    f'{{endpointId: "{_WE}"}}) {{ webhookEndpoint {{ url }} }} }}',
    "deleteWebhookEndpoint": "mutation { deleteWebhookEndpoint(input: "
    f'{{endpointId: "{_WE}"}}) {{ deletedId }} }}',
    "redeliverWebhook": "mutation { redeliverWebhook(input: "
    f'{{endpointId: "{_WE}", cursor: "ZXZlbnQ6MQ=="}}) {{ webhookEndpoint {{ url }} }} }}',
    "library": "{ library { documents { title } } }",
    "folder": '{ folder(id: "TGlicmFyeUZvbGRlcjox") { name } }',
    "document": '{ document(id: "TGlicmFyeURvY3VtZW50OjE=") { title } }',
    "documents": "{ documents { totalCount } }",
    "createFolder": 'mutation { createFolder(name: "x") { name } }',
    "openFolderToMembers": 'mutation { openFolderToMembers(id: "TGlicmFyeUZvbGRlcjox", '
    "open: true) { name } }",
    "createDocument": 'mutation { createDocument(input: {title: "x", type: OTHER}) { title } }',
    "setDocumentValidity": "mutation { setDocumentValidity(id: "
    '"TGlicmFyeURvY3VtZW50OjE=") { title } }',
    "supersedeDocument": "mutation { supersedeDocument(id: "
    '"TGlicmFyeURvY3VtZW50OjE=", byId: "TGlicmFyeURvY3VtZW50OjE=") { title } }',
    "requireAcknowledgement": "mutation { requireAcknowledgement(id: "
    '"TGlicmFyeURvY3VtZW50OjE=") { title } }',
    "acknowledgeDocument": "mutation { acknowledgeDocument(id: "
    '"TGlicmFyeURvY3VtZW50OjE=") { title } }',
    "moveDocument": 'mutation { moveDocument(id: "TGlicmFyeURvY3VtZW50OjE=") { title } }',
    "tagDocument": 'mutation { tagDocument(id: "TGlicmFyeURvY3VtZW50OjE=", tags: []) { title } }',
    "deleteDocumentVersion": "mutation { deleteDocumentVersion(id: "
    '"RG9jdW1lbnRWZXJzaW9uOjE=") { number } }',
    "restoreDocumentVersion": "mutation { restoreDocumentVersion(id: "
    '"RG9jdW1lbnRWZXJzaW9uOjE=") { number } }',
    "businessDocuments": "{ businessDocuments { totalCount } }",
    "businessDocument": f'{{ businessDocument(id: "{_BD}") {{ number }} }}',
    "upsertBusinessDocument": 'mutation { upsertBusinessDocument(input: {source: "erp", '
    'externalId: "1", customerExternalId: "1", kind: INVOICE, number: "1", title: "x", '
    'issueDate: "2026-01-01", netAmount: "1.00", grossAmount: "1.19", currency: "EUR"}) '
    "{ created } }",
    "createBusinessDocument": f'mutation {{ createBusinessDocument(customerId: "{_C}", '
    f"input: {_BD_FIELDS}) {{ number }} }}",
    "updateBusinessDocument": f'mutation {{ updateBusinessDocument(id: "{_BD}", '
    f"input: {_BD_FIELDS}) {{ number }} }}",
    "changeBusinessDocumentStatus": "mutation { changeBusinessDocumentStatus("
    f'id: "{_BD}", status: PAID) {{ number }} }}',
    "acceptQuote": f'mutation {{ acceptQuote(id: "{_BD}") {{ status }} }}',
    "declineQuote": f'mutation {{ declineQuote(id: "{_BD}") {{ status }} }}',
}


async def row_counts() -> dict[str, int]:
    """Rows in every table but the audit log (which may record refusals), and active users."""
    tables = Tortoise.apps["models"].items()
    counts = {name: await model.all().count() for name, model in tables if name != "AuditEntry"}
    return {**counts, "active users": await User.filter(is_active=True).count()}


def root_fields() -> Iterator[tuple[str, str]]:
    """(root type, field) for every field of Query, Mutation and Subscription."""
    graphql_schema = schema._schema
    roots = (graphql_schema.query_type, graphql_schema.mutation_type)
    for root in (*roots, graphql_schema.subscription_type):
        if root is not None:
            yield from ((root.name, name) for name in root.fields)


def permissions_of(type_name: str, field_name: str) -> list[type[BasePermission]]:
    field = schema.get_field_for_type(field_name, type_name)
    assert field is not None, f"{type_name}.{field_name} is not a strawberry field"
    return [
        type(permission)
        for extension in field.extensions
        if isinstance(extension, PermissionExtension)
        for permission in extension.permissions
    ]


# Subscriptions are refused before any operation: a socket without a valid token is closed
# with 4403 (tests/graphql/test_subscriptions.py).
PROTECTED = sorted(
    name for root, name in root_fields() if root != "Subscription" and permissions_of(root, name)
)


def test_every_root_field_declares_a_permission_unless_it_is_public() -> None:
    # given
    fields = list(root_fields())
    # when
    unguarded = [
        f"{root}.{name}"
        for root, name in fields
        if name not in PUBLIC and not permissions_of(root, name)
    ]
    # then
    assert unguarded == []


def test_the_public_set_names_only_existing_root_fields() -> None:
    # given
    existing = {name for _, name in root_fields()}
    # when
    stale = PUBLIC - existing
    # then
    assert stale == set()


@pytest.mark.parametrize(
    "line",
    [
        "internalNotes: String @isStaff",
        "annualBudget: Decimal @isStaff",
        "budget: Decimal @canSeeBudget",
        "email: String @canSeeEmail",
    ],
)
def test_the_sdl_shows_the_permission_of_a_protected_field(line: str) -> None:
    # when
    sdl_lines = [text.strip() for text in schema.as_str().splitlines()]
    # then
    assert line in sdl_lines


@pytest.mark.parametrize("field", PROTECTED)
async def test_an_anonymous_caller_is_unauthenticated_on_every_protected_root_field(
    api: Api, world: World, field: str
) -> None:
    # given
    assert field in ANONYMOUS_DOCUMENTS, f"add a document for {field}"
    before = await row_counts()
    # when
    result = await api(ANONYMOUS_DOCUMENTS[field])
    # then
    assert result.codes == ["UNAUTHENTICATED"]
    assert not (result.data or {}).get(field)
    assert await row_counts() == before


# --- reading protected fields ---------------------------------------------------------


class FieldCase(NamedTuple):
    query: str
    target: str  # the World attribute whose global ID is `$id`
    root: str
    field: str
    value: Any  # what a permitted reader gets
    name: str  # the object's name, which everybody who sees the object gets
    readers: set[str]
    refused: set[str]


STAFF = {"admin", "sam", "stan"}
FIELDS = {
    "Customer.internalNotes": FieldCase(
        query=CUSTOMER_NOTES,
        target="acme",
        root="customer",
        field="internalNotes",
        value="Acme renewal is at risk",
        name="Acme Logistics",
        readers=STAFF,
        refused={"anna", "max", "mia"},
    ),
    "Customer.annualBudget": FieldCase(
        query=CUSTOMER_BUDGET,
        target="acme",
        root="customer",
        field="annualBudget",
        value=Decimal("480000"),
        name="Acme Logistics",
        readers=STAFF,
        refused={"anna", "max", "mia"},
    ),
    "Project.budget": FieldCase(
        query=PROJECT_BUDGET,
        target="portal",
        root="project",
        field="budget",
        value=Decimal("120000"),
        name="Acme warehouse portal",
        readers=STAFF | {"anna"},
        refused={"max"},
    ),
    "User.email": FieldCase(
        query=USER_EMAIL,
        target="max",
        root="node",
        field="email",
        value="max@acme.example",
        name="Max",
        readers=STAFF | {"anna", "max"},
        refused={"mia"},
    ),
}


def _read_cases(refused: bool) -> list[Any]:
    return [
        pytest.param(case, role, id=f"{case}-{role}")
        for case, spec in FIELDS.items()
        for role in sorted(spec.refused if refused else spec.readers)
    ]


def same_value(actual: Any, expected: Any) -> bool:
    if isinstance(expected, Decimal):
        return actual is not None and Decimal(actual) == expected
    return bool(actual == expected)


@pytest.mark.parametrize(("case", "role"), _read_cases(refused=False))
async def test_permitted_roles_read_the_protected_field(
    api: Api, world: World, case: str, role: str
) -> None:
    # given
    spec = FIELDS[case]
    target = gid(getattr(world, spec.target))
    # when
    result = await api(spec.query, {"id": target}, as_user=world.users()[role])
    # then
    assert result.errors == []
    assert same_value(result.data[spec.root][spec.field], spec.value)


@pytest.mark.parametrize(("case", "role"), _read_cases(refused=True))
async def test_other_roles_get_null_and_forbidden_at_the_field_and_the_rest_intact(
    api: Api, world: World, case: str, role: str
) -> None:
    # given
    spec = FIELDS[case]
    target = gid(getattr(world, spec.target))
    # when
    result = await api(spec.query, {"id": target}, as_user=world.users()[role])
    # then
    assert result.data[spec.root] == {"name": spec.name, spec.field: None}
    error = result.error_at(spec.root, spec.field)
    assert error is not None
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert len(result.errors) == 1


@pytest.mark.parametrize("case", FIELDS)
async def test_a_contact_of_another_customer_gets_not_found_for_the_object(
    api: Api, world: World, case: str
) -> None:
    # given
    spec = FIELDS[case]
    target = gid(getattr(world, spec.target))
    # when
    result = await api(spec.query, {"id": target}, as_user=world.gina)
    # then
    assert result.codes == ["NOT_FOUND"]
    assert result.data == {spec.root: None}


# --- mutations ------------------------------------------------------------------------

OK, FORBIDDEN, NOT_FOUND = "OK", "FORBIDDEN", "NOT_FOUND"

MUTATIONS: dict[str, tuple[str, str, Callable[[World], dict[str, Any]], type[Any]]] = {
    # case: (document, root field, input, the model a success adds a row to)
    "createCustomer": (
        CREATE_CUSTOMER,
        "createCustomer",
        lambda w: {"name": "Initech"},
        Customer,
    ),
    "createProject": (
        CREATE_PROJECT,
        "createProject",
        lambda w: {"customerId": gid(w.acme), "name": "Acme depot"},
        Project,
    ),
    "changeProjectStatus": (
        CHANGE_STATUS,
        "changeProjectStatus",
        lambda w: {"projectId": gid(w.portal), "status": "ACTIVE"},
        ProjectStatusChange,
    ),
    "postMicropost-shared": (
        POST_MICROPOST,
        "postMicropost",
        lambda w: {"projectId": gid(w.portal), "body": "Status update"},
        Micropost,
    ),
    "postMicropost-internal": (
        POST_MICROPOST,
        "postMicropost",
        lambda w: {"projectId": gid(w.portal), "body": "Staff only", "visibility": "INTERNAL"},
        Micropost,
    ),
    "inviteContact": (
        INVITE_CONTACT,
        "inviteContact",
        lambda w: {"customerId": gid(w.acme), "email": "new@acme.example", "name": "New"},
        Invitation,
    ),
    "setCustomerEmailDomains": (
        SET_EMAIL_DOMAINS,
        "setCustomerEmailDomains",
        lambda w: {"customerId": gid(w.acme), "domains": ["acme.example", "acme-eu.example"]},
        CustomerEmailDomain,
    ),
    "addProjectMember": (
        ADD_MEMBER,
        "addProjectMember",
        lambda w: {"projectId": gid(w.portal), "userId": gid(w.mia)},
        ProjectMembership,
    ),
    "registerPersistedQuery": (
        REGISTER_PERSISTED_QUERY,
        "registerPersistedQuery",
        lambda w: {"query": "query Me { me { id name } }"},
        PersistedDocument,
    ),
}


def outcomes(ok: str, forbidden: str = "", not_found: str = "") -> dict[str, str]:
    table = {OK: ok, FORBIDDEN: forbidden, NOT_FOUND: not_found}
    return {role: outcome for outcome, roles in table.items() for role in roles.split()}


OUTCOMES = {
    "createCustomer": outcomes("admin", forbidden="sam stan anna max gina"),
    "createProject": outcomes("admin sam", forbidden="stan anna max", not_found="gina"),
    "changeProjectStatus": outcomes("admin sam", forbidden="stan anna max", not_found="gina"),
    "postMicropost-shared": outcomes("admin sam anna max", forbidden="stan", not_found="mia gina"),
    "postMicropost-internal": outcomes(
        "admin sam", forbidden="stan anna max", not_found="mia gina"
    ),
    "inviteContact": outcomes("admin sam anna", forbidden="stan max mia", not_found="gina"),
    "setCustomerEmailDomains": outcomes("admin", forbidden="sam stan anna max mia gina"),
    "addProjectMember": outcomes("admin sam anna", forbidden="stan max", not_found="mia gina"),
    "registerPersistedQuery": outcomes("admin", forbidden="sam stan anna max mia gina"),
}


def _mutation_cases(refused: bool) -> list[Any]:
    return [
        pytest.param(case, role, *([outcome] if refused else []), id=f"{case}-{role}")
        for case, roles in OUTCOMES.items()
        for role, outcome in roles.items()
        if (outcome != OK) is refused
    ]


@pytest.mark.parametrize(("case", "role"), _mutation_cases(refused=False))
async def test_permitted_roles_run_the_mutation(
    api: Api, world: World, case: str, role: str
) -> None:
    # given
    document, field, make_input, model = MUTATIONS[case]
    before = await model.all().count()
    # when
    result = await api(document, {"input": make_input(world)}, as_user=world.users()[role])
    # then
    assert result.errors == []
    assert result.data[field] is not None
    assert await model.all().count() == before + 1


@pytest.mark.parametrize(("case", "role", "outcome"), _mutation_cases(refused=True))
async def test_refused_mutations_answer_their_code_and_change_nothing(
    api: Api, world: World, case: str, role: str, outcome: str
) -> None:
    # given
    document, field, make_input, _ = MUTATIONS[case]
    before = await row_counts()
    # when
    result = await api(document, {"input": make_input(world)}, as_user=world.users()[role])
    # then
    assert result.codes == [outcome]
    assert result.data == {field: None}
    assert await row_counts() == before
