"""The scope an access token needs for each root field, printed in the SDL as
``@hasScope(scope: "projects:read")``.

:data:`FIELD_SCOPES` names it for every query, mutation and subscription: an area's read
or write scope (domain/scopes.py), ``"any"`` (the caller's own things: any token may),
``"none"`` (a signed-in person only: signing in, second factors, tokens themselves, the
audit log), :data:`BY_ID_TYPE` (``node``: the read scope of the area of the object the ID
names) or None (a public field: it needs no credentials). A field missing from it is
refused to every token (and tests/graphql/test_access_tokens.py fails until it is named
here). Sessions (a person signed in with ``login``) are not bounded by scopes.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.schema_directive import Location
from strawberry.types.base import StrawberryObjectDefinition

from domain import policy
from domain.scopes import ANY_TOKEN, NO_TOKEN, missing_scope
from graphql_schema.context import Info
from graphql_schema.permissions import Rule
from graphql_schema.relay import parse_global_id
from graphql_schema.varies import Varies

BY_ID_TYPE = "read:object"
"""``node(id)``: the read scope of the area of the object the ID names."""

TYPE_AREAS = {
    "Customer": "customers",
    "User": "customers",
    "Project": "projects",
    "Micropost": "projects",
    "Topic": "projects",
    "Page": "pages",
    "PageRevision": "pages",
    "Attachment": "pages",
    "Watch": ANY_TOKEN,
    "Notification": ANY_TOKEN,
    "Request": "requests",
    "RequestType": "requests",
    "BusinessDocument": "business_documents",
    "LibraryFolder": "documents",
    "LibraryDocument": "documents",
    "DocumentVersion": "documents",
}
"""The area of each type ``node`` may return; another type is refused to every token."""

FIELD_SCOPES: dict[str, dict[str, str | None]] = {
    "Query": {
        "me": ANY_TOKEN,
        "node": BY_ID_TYPE,
        "customers": "customers:read",
        "customer": "customers:read",
        "projects": "projects:read",
        "project": "projects:read",
        "page": "pages:read",
        "topic": "projects:read",
        "watches": ANY_TOKEN,
        "notifications": ANY_TOKEN,
        "dashboard": NO_TOKEN,
        "search": "projects:read",
        "kpis": NO_TOKEN,
        "auditLog": NO_TOKEN,
        "myDataExports": NO_TOKEN,
        "securityAlerts": NO_TOKEN,
        "accessTokens": NO_TOKEN,
        "serviceAccounts": NO_TOKEN,
        "pendingInvitations": "customers:read",
        "mailPreferences": NO_TOKEN,
        "requestTypes": "requests:read",
        "requests": "requests:read",
        "request": "requests:read",
        "businessCalendars": "requests:read",
        "businessDocuments": "business_documents:read",
        "businessDocument": "business_documents:read",
        "library": "documents:read",
        "folder": "documents:read",
        "document": "documents:read",
        "documents": "documents:read",
        "webhookEndpoints": "webhooks:read",
        "webhookEndpoint": "webhooks:read",
        "webhookEvents": "webhooks:read",
    },
    "Mutation": {
        "login": None,
        "refreshSession": None,
        "logout": None,
        "acceptInvitation": None,
        "completeLogin": None,
        "enrollTotp": None,
        "confirmTotp": None,
        "disableTotp": NO_TOKEN,
        "regenerateRecoveryCodes": NO_TOKEN,
        "setMfaRequirement": NO_TOKEN,
        "removeContact": "customers:write",
        "exportMyData": NO_TOKEN,
        "eraseUser": NO_TOKEN,
        "inviteContact": "customers:write",
        "setCustomerEmailDomains": "customers:write",
        "createCustomer": "customers:write",
        "createProject": "projects:write",
        "addProjectMember": "projects:write",
        "removeProjectMember": "projects:write",
        "changeProjectStatus": "projects:write",
        "postMicropost": "projects:write",
        "editMicropost": "projects:write",
        "createPage": "pages:write",
        "addPageWatcher": "pages:write",
        "movePage": "pages:write",
        "updatePage": "pages:write",
        "restorePageRevision": "pages:write",
        "discardPageDraft": "pages:write",
        "deleteAttachment": "pages:write",
        "setPageEditing": "pages:write",
        "watch": ANY_TOKEN,
        "unwatch": ANY_TOKEN,
        "markNotificationsRead": ANY_TOKEN,
        "registerPersistedQuery": ANY_TOKEN,
        "createAccessToken": NO_TOKEN,
        "revokeAccessToken": NO_TOKEN,
        "createServiceAccount": NO_TOKEN,
        "createServiceAccountToken": NO_TOKEN,
        "deactivateServiceAccount": NO_TOKEN,
        "upsertCustomer": "customers:write",
        "upsertProject": "projects:write",
        "upsertContact": "customers:write",
        "resendInvitation": "customers:write",
        "revokeInvitation": "customers:write",
        "requestPasswordReset": None,
        "resetPassword": None,
        "changePassword": NO_TOKEN,
        "updateMyProfile": NO_TOKEN,
        "unlockUser": NO_TOKEN,
        "deactivateUser": NO_TOKEN,
        "reactivateUser": NO_TOKEN,
        "setMailPreferences": NO_TOKEN,
        "acknowledgeSecurityAlert": NO_TOKEN,
        "resolveSecurityAlert": NO_TOKEN,
        "submitRequest": "requests:write",
        "replyToRequest": "requests:write",
        "changeRequestStatus": "requests:write",
        "assignRequest": "requests:write",
        "addRequestParticipant": "requests:write",
        "setRequestDueDate": "requests:write",
        "withdrawRequest": "requests:write",
        "reopenRequest": "requests:write",
        "createRequestType": "requests:write",
        "updateRequestType": "requests:write",
        "setSlaPolicy": "requests:write",
        "setBusinessCalendar": "requests:write",
        "createWebhookEndpoint": "webhooks:write",
        "updateWebhookEndpoint": "webhooks:write",
        "rotateWebhookSecret": "webhooks:write",
        "enableWebhookEndpoint": "webhooks:write",
        "deleteWebhookEndpoint": "webhooks:write",
        "redeliverWebhook": "webhooks:write",
        "upsertBusinessDocument": "business_documents:write",
        "createBusinessDocument": "business_documents:write",
        "updateBusinessDocument": "business_documents:write",
        "changeBusinessDocumentStatus": "business_documents:write",
        "acceptQuote": "business_documents:write",
        "declineQuote": "business_documents:write",
        "createFolder": "documents:write",
        "openFolderToMembers": "documents:write",
        "createDocument": "documents:write",
        "setDocumentValidity": "documents:write",
        "supersedeDocument": "documents:write",
        "requireAcknowledgement": "documents:write",
        "acknowledgeDocument": "documents:write",
        "moveDocument": "documents:write",
        "tagDocument": "documents:write",
        "deleteDocumentVersion": "documents:write",
        "restoreDocumentVersion": "documents:write",
    },
    "Subscription": {
        "projectTimeline": "projects:read",
        "myFeed": "projects:read",
        "unreadNotificationCount": ANY_TOKEN,
        "actionCount": NO_TOKEN,
        "pagePresence": "pages:read",
        "requestEvents": "requests:read",
        "businessDocumentEvents": "business_documents:read",
        "libraryEvents": "documents:read",
    },
}


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="hasScope",
    description=(
        "What an access token needs for this field: an area's scope (`projects:read`; "
        "`write` includes `read`), `any` (any token), `none` (a signed-in person only) or "
        "`read:object` (the read scope of the object's area); others FORBIDDEN with "
        "`extensions.missingScope`. Sessions are not bounded by scopes."
    ),
)
class HasScopeDirective:
    scope: str


class HasScope(Rule):
    """The scope an access token needs (:data:`FIELD_SCOPES`); signed-in sessions pass."""

    message = "This access token lacks the scope this field needs."
    error_extensions = {"code": "FORBIDDEN"}
    varies = Varies.NOT  # decided on root fields, before any value is read
    predicate = policy.has_scope

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope
        self._schema_directive = HasScopeDirective(scope=scope)  # type: ignore[misc]

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        scopes = info.context.scopes
        if scopes is None:
            return True
        needed = self.scope
        if needed == BY_ID_TYPE:
            area = TYPE_AREAS.get(parse_global_id(kwargs.get("id", "")).type_name, NO_TOKEN)
            needed = area if area in (ANY_TOKEN, NO_TOKEN) else f"{area}:read"
        if not policy.has_scope(scopes, needed):
            raise missing_scope(needed)
        return True


def declare_scopes(*roots: type) -> None:
    """Put the :class:`HasScope` of :data:`FIELD_SCOPES` on every field of these root types
    (Query, Mutation, Subscription; a field without an entry: ``none``). Public fields get
    none. Idempotent: a field that has one keeps it."""
    for root in roots:
        definition: StrawberryObjectDefinition = root.__strawberry_definition__  # type: ignore[attr-defined]
        scopes = FIELD_SCOPES.get(definition.name, {})
        for field in definition.fields:
            name = field.graphql_name or strawberry_name(field.python_name)
            permissions = [e for e in field.extensions if isinstance(e, PermissionExtension)]
            if not permissions or (name in scopes and scopes[name] is None):
                continue  # a public field: it needs no credentials
            if any(isinstance(p, HasScope) for e in permissions for p in e.permissions):
                continue
            field.extensions.append(PermissionExtension([HasScope(scopes.get(name) or NO_TOKEN)]))


def strawberry_name(python_name: str) -> str:
    """The GraphQL name strawberry gives a Python name (``project_timeline``:
    ``projectTimeline``)."""
    head, *rest = python_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
