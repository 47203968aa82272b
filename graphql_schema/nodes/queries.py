"""``node(id:)``: any object by its global ID, through the same scopes as every other read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry import relay
from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from domain import library as library_rules
from domain import policy
from domain.errors import NotFound
from graphql_schema.accounts.types import User
from graphql_schema.business_documents.types import BusinessDocument
from graphql_schema.context import Info
from graphql_schema.customers.types import Customer
from graphql_schema.library.types import DocumentVersion, LibraryDocument, LibraryFolder
from graphql_schema.microposts.types import Micropost, Topic
from graphql_schema.notifications.queries import readable_notifications
from graphql_schema.notifications.types import Notification
from graphql_schema.pages.types import Attachment, Page, PageRevision
from graphql_schema.permissions import CanSee, rule
from graphql_schema.projects.types import Project
from graphql_schema.relay import decode_global_id, parse_global_id, topic_by_id
from graphql_schema.requests.types import Request, RequestType
from graphql_schema.watches.types import Watch
from models import PageRevision as RevisionRow
from models import User as UserRow
from models import Watch as WatchRow

Scope = Callable[[UserRow], QuerySet[Any]]


def _revisions(viewer: UserRow) -> QuerySet[RevisionRow]:
    return RevisionRow.filter(page_id__in=Subquery(policy.visible_pages(viewer).values("id")))


def _own_watches(viewer: UserRow) -> QuerySet[WatchRow]:
    return WatchRow.filter(user_id=viewer.id)


NODE_TYPES: dict[str, tuple[Scope, Callable[[Any], relay.Node]]] = {
    "User": (policy.visible_users, User.from_row),
    "Customer": (policy.visible_customers, Customer.from_row),
    "Project": (policy.visible_projects, Project.from_row),
    "Page": (policy.visible_pages, Page.from_row),
    "PageRevision": (_revisions, PageRevision.from_row),
    "Attachment": (policy.visible_attachments, Attachment.from_row),
    "Micropost": (policy.visible_microposts, Micropost.from_row),
    "Watch": (_own_watches, Watch.from_row),
    "Notification": (readable_notifications, Notification.from_row),
    "Request": (policy.visible_requests, Request.from_row),
    "RequestType": (policy.visible_request_types, RequestType.from_row),
    "BusinessDocument": (policy.visible_business_documents, BusinessDocument.from_row),
    "LibraryFolder": (library_rules.visible_folders, LibraryFolder.from_row),
    "LibraryDocument": (library_rules.visible_documents, LibraryDocument.from_row),
    "DocumentVersion": (library_rules.visible_versions, DocumentVersion.from_row),
}


@strawberry.type
class Query:
    @strawberry.field(
        extensions=rule(CanSee),
        description="Any object by its global ID; unknown and unreachable IDs are NOT_FOUND.",
    )
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        viewer = info.context.require_viewer()
        if parse_global_id(id).type_name == "Topic":
            return Topic.from_row(await topic_by_id(viewer, id, "object"))
        type_name, node_id = decode_global_id(id)
        if type_name not in NODE_TYPES:
            raise NotFound()
        scope, to_node = NODE_TYPES[type_name]
        return to_node(await policy.get_visible(scope(viewer), node_id, "object"))
