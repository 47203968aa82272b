"""``businessDocuments`` and ``businessDocument``: what the viewer may see of them."""

from __future__ import annotations

import strawberry
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from actions.business_documents import today
from domain import policy
from graphql_schema.business_documents.types import BusinessDocument
from graphql_schema.context import Info
from graphql_schema.permissions import CanSeeBusinessDocument, rule
from graphql_schema.relay import DEFAULT_PAGE_SIZE, Connection, fetch_by_global_id, paginate
from models import BusinessDocument as DocumentRow
from models import BusinessDocumentKind, BusinessDocumentStatus
from models import User as UserRow

K = BusinessDocumentKind
S = BusinessDocumentStatus


@strawberry.input(description="Which documents to list; every condition given must hold.")
class BusinessDocumentFilter:
    customer_id: strawberry.ID | None = None
    project_id: strawberry.ID | None = None
    kind: list[BusinessDocumentKind] | None = None
    status: list[BusinessDocumentStatus] | None = strawberry.field(
        default=None, description="As read today (an OPEN invoice past due is OVERDUE)."
    )


def _with_status(
    documents: QuerySet[DocumentRow], wanted: list[BusinessDocumentStatus]
) -> QuerySet[DocumentRow]:
    """Documents whose status as of today (:func:`effective_status`) is one of ``wanted``."""
    day = today()
    late = Q(due_date__lt=day)
    overdue = Q(kind=K.INVOICE, status=S.OPEN) & late
    expired = Q(kind=K.QUOTE, status=S.SENT) & late
    condition = Q(status__in=[s for s in wanted if s not in (S.OPEN, S.SENT)])
    if S.OPEN in wanted:
        condition |= Q(status=S.OPEN) & ~overdue
    if S.SENT in wanted:
        condition |= Q(status=S.SENT) & ~expired
    if S.OVERDUE in wanted:
        condition |= overdue
    if S.EXPIRED in wanted:
        condition |= expired
    return documents.filter(condition)


async def filtered(viewer: UserRow, where: BusinessDocumentFilter | None) -> QuerySet[DocumentRow]:
    """The viewer's documents that meet ``where``; a customer's or project's ID out of
    sight is NOT_FOUND, as a missing one."""
    documents = policy.visible_business_documents(viewer)
    if where is None:
        return documents
    if where.customer_id is not None:
        customer = await fetch_by_global_id(
            policy.visible_customers(viewer), where.customer_id, "Customer"
        )
        documents = documents.filter(customer_id=customer.id)
    if where.project_id is not None:
        project = await fetch_by_global_id(
            policy.visible_projects(viewer), where.project_id, "Project"
        )
        documents = documents.filter(project_id=project.id)
    if where.kind:
        documents = documents.filter(kind__in=list(where.kind))
    if where.status:
        documents = _with_status(documents, list(where.status))
    return documents


@strawberry.type
class Query:
    @strawberry.field(
        extensions=rule(CanSeeBusinessDocument),
        description="Business documents you may see, newest first.",
    )
    async def business_documents(
        self,
        info: Info,
        filter: BusinessDocumentFilter | None = None,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[BusinessDocument]:
        documents = await filtered(info.context.require_viewer(), filter)
        return await paginate(
            documents,
            first=first,
            after=after,
            to_node=BusinessDocument.from_row,
            newest_first=True,
        )

    @strawberry.field(extensions=rule(CanSeeBusinessDocument))
    async def business_document(self, info: Info, id: strawberry.ID) -> BusinessDocument | None:
        scope = policy.visible_business_documents(info.context.require_viewer())
        return BusinessDocument.from_row(await fetch_by_global_id(scope, id, "BusinessDocument"))
