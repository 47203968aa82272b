"""Writing business documents: the ERP's ``upsertBusinessDocument``, staff's
``createBusinessDocument`` / ``updateBusinessDocument`` / ``changeBusinessDocumentStatus``,
and the customer's ``acceptQuote`` / ``declineQuote``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from actions import business_documents as documents
from actions.upserts import check_external_id, check_source
from domain import policy
from graphql_schema.business_documents.types import BusinessDocument
from graphql_schema.context import Info
from graphql_schema.permissions import CanDecideQuote, CanManageBusinessDocuments, CanSync, rule
from graphql_schema.relay import node_pk
from models import BusinessDocument as DocumentRow
from models import BusinessDocumentKind, BusinessDocumentStatus

_AMOUNT = 'An exact decimal with at most 2 places, as a string ("1234.50"); never a float.'


@strawberry.input(description="What a document says.")
class BusinessDocumentFields:
    kind: BusinessDocumentKind
    number: str = strawberry.field(description="Unique per customer and kind, at most 64.")
    title: str
    issue_date: date
    due_date: date | None = None
    net_amount: Decimal = strawberry.field(description=_AMOUNT)
    gross_amount: Decimal = strawberry.field(description=_AMOUNT)
    currency: str = strawberry.field(description="An ISO 4217 code, such as EUR.")
    status: BusinessDocumentStatus | None = strawberry.field(
        default=None,
        description="One of the kind's statuses; null: the kind's first (SENT, CONFIRMED, "
        "OPEN, ISSUED) for a new document, kept for an existing one.",
    )
    project_id: strawberry.ID | None = None

    def to_fields(self, current: BusinessDocumentStatus | None = None) -> documents.DocumentFields:
        return documents.DocumentFields(
            kind=self.kind,
            number=self.number,
            title=self.title,
            issue_date=self.issue_date,
            due_date=self.due_date,
            net_amount=self.net_amount,
            gross_amount=self.gross_amount,
            currency=self.currency,
            status=self.status or current,
            project_id=node_pk(self.project_id, "Project") if self.project_id else None,
        )


@strawberry.input
class UpsertBusinessDocumentInput(BusinessDocumentFields):
    source: str = strawberry.field(
        description="The external system (`erp`...): external IDs are unique per source."
    )
    external_id: str
    customer_id: strawberry.ID | None = None
    customer_external_id: str | None = strawberry.field(
        default=None, description="The customer by its external ID of the same source."
    )
    project_external_id: str | None = strawberry.field(
        default=None, description="The project by its external ID of the same source."
    )


@strawberry.type
class UpsertBusinessDocumentPayload:
    business_document: BusinessDocument
    created: bool = strawberry.field(description="True: created now; false: it existed.")


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=rule(CanSync),
        description="Create or update a business document by its external ID (the ERP's "
        "push): administrators and service accounts, within the customer's account team. "
        "The same call again changes nothing.",
    )
    async def upsert_business_document(
        self, info: Info, input: UpsertBusinessDocumentInput
    ) -> UpsertBusinessDocumentPayload:
        viewer = info.context.require_viewer()
        source, external_id = check_source(input.source), check_external_id(input.external_id)
        existing = await DocumentRow.get_or_none(source=source, external_id=external_id)
        done = await documents.upsert_business_document(
            viewer,
            info.context.bus,
            source=source,
            external_id=external_id,
            fields=input.to_fields(existing.status if existing else None),
            customer_id=node_pk(input.customer_id, "Customer") if input.customer_id else None,
            customer_external_id=input.customer_external_id,
            project_external_id=input.project_external_id,
        )
        return UpsertBusinessDocumentPayload(
            business_document=BusinessDocument.from_row(done.row), created=done.created
        )

    @strawberry.mutation(
        extensions=rule(CanManageBusinessDocuments),
        description="Create a business document by hand (the customer's account team).",
    )
    async def create_business_document(
        self, info: Info, customer_id: strawberry.ID, input: BusinessDocumentFields
    ) -> BusinessDocument:
        row = await documents.create_business_document(
            info.context.require_viewer(),
            info.context.bus,
            customer_id=node_pk(customer_id, "Customer"),
            fields=input.to_fields(),
        )
        return BusinessDocument.from_row(row)

    @strawberry.mutation(
        extensions=rule(CanManageBusinessDocuments),
        description="Change a business document by hand (its kind stays).",
    )
    async def update_business_document(
        self, info: Info, id: strawberry.ID, input: BusinessDocumentFields
    ) -> BusinessDocument:
        viewer = info.context.require_viewer()
        pk = node_pk(id, "BusinessDocument")
        current = await policy.visible_business_documents(viewer).get_or_none(id=pk)
        row = await documents.update_business_document(
            viewer, info.context.bus, pk, input.to_fields(current.status if current else None)
        )
        return BusinessDocument.from_row(row)

    @strawberry.mutation(
        extensions=rule(CanManageBusinessDocuments),
        description="Set a business document's status (one of its kind's).",
    )
    async def change_business_document_status(
        self, info: Info, id: strawberry.ID, status: BusinessDocumentStatus
    ) -> BusinessDocument:
        row = await documents.change_business_document_status(
            info.context.require_viewer(), info.context.bus, node_pk(id, "BusinessDocument"), status
        )
        return BusinessDocument.from_row(row)

    @strawberry.mutation(
        extensions=rule(CanDecideQuote),
        description="Accept a SENT quote whose due date has not passed (recorded, audited, "
        "an event).",
    )
    async def accept_quote(self, info: Info, id: strawberry.ID, note: str = "") -> BusinessDocument:
        row = await documents.decide_quote(
            info.context.require_viewer(),
            info.context.bus,
            node_pk(id, "BusinessDocument"),
            accept=True,
            note=note,
        )
        return BusinessDocument.from_row(row)

    @strawberry.mutation(
        extensions=rule(CanDecideQuote),
        description="Decline a SENT quote whose due date has not passed, with a note.",
    )
    async def decline_quote(
        self, info: Info, id: strawberry.ID, note: str = ""
    ) -> BusinessDocument:
        row = await documents.decide_quote(
            info.context.require_viewer(),
            info.context.bus,
            node_pk(id, "BusinessDocument"),
            accept=False,
            note=note,
        )
        return BusinessDocument.from_row(row)
