"""A business document as a reader sees it: amounts only where budgets are seen."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry
from strawberry import relay
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import PermissionExtension

from actions.business_documents import effective_status
from domain import policy
from domain.tokens import DownloadKind
from graphql_schema.accounts.types import User, load_user
from graphql_schema.context import Info
from graphql_schema.customers.types import Customer
from graphql_schema.downloads import download_link
from graphql_schema.permissions import CanSeeBudget
from graphql_schema.projects.types import Project
from graphql_schema.relay import global_id
from graphql_schema.rows import FromRow
from graphql_schema.varies import SAME_FOR_EVERY_READER
from models import BusinessDocument as DocumentRow
from models import BusinessDocumentKind, BusinessDocumentStatus

strawberry.enum(BusinessDocumentKind, description="QUOTE, ORDER, INVOICE or CREDIT_NOTE.")
strawberry.enum(
    BusinessDocumentStatus,
    description=(
        "A quote: SENT, ACCEPTED, DECLINED, EXPIRED (or CANCELLED); an order: CONFIRMED, "
        "DELIVERED, CANCELLED; an invoice: OPEN, PAID, OVERDUE, CANCELLED; a credit note: "
        "ISSUED, SETTLED, CANCELLED."
    ),
)


def _amount_rule() -> list[FieldExtension]:
    """Amounts read null (without an error) for those who may not see budgets."""
    return [PermissionExtension([CanSeeBudget()], fail_silently=True)]


@strawberry.type(
    description="A quote, order, invoice or credit note of a customer (optionally of one "
    "of its projects), as issued by the provider's ERP or its staff."
)
class BusinessDocument(FromRow, relay.Node):
    id: relay.NodeID[int]
    kind: BusinessDocumentKind
    number: str = strawberry.field(description="The issuer's number, unique per customer and kind.")
    title: str
    issue_date: date
    due_date: date | None = strawberry.field(
        description="Payment due (an invoice) or the last day to decide (a quote)."
    )
    currency: str = strawberry.field(description="ISO 4217 code, such as EUR.")
    decided_at: datetime | None
    decision_note: str
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[DocumentRow]

    @strawberry.field(
        description="As of today: an OPEN invoice past its due date reads OVERDUE, a SENT "
        "quote past its due date EXPIRED."
    )
    def status(self) -> BusinessDocumentStatus:
        return effective_status(self.row)

    @strawberry.field(
        extensions=_amount_rule(),
        description="Net amount (exact decimal, 2 places) in `currency`; null for those who "
        "may not see the customer's budgets.",
    )
    def net_amount(self) -> Decimal | None:
        return self.row.net_amount

    @strawberry.field(
        extensions=_amount_rule(),
        description="Gross amount (net plus taxes); null as `netAmount`.",
    )
    def gross_amount(self) -> Decimal | None:
        return self.row.gross_amount

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def customer(self, info: Info) -> Customer:
        row = await info.context.loaders.customer.load(self.row.customer_id)
        assert row is not None
        return Customer.from_row(row)

    @strawberry.field(description="The project it belongs to, if any and you may see it.")
    async def project(self, info: Info) -> Project | None:
        if self.row.project_id is None:
            return None
        row = await info.context.loaders.visible_project.load(self.row.project_id)
        return Project.from_row(row) if row else None

    @strawberry.field(description="Who accepted or declined the quote.")
    async def decided_by(self, info: Info) -> User | None:
        if self.row.decided_by_id is None:
            return None
        return await load_user(info, self.row.decided_by_id)

    @strawberry.field(description="The PDF's file name, or null when it has none.")
    def pdf_name(self) -> str | None:
        return self.row.pdf_name if self.row.pdf_key else None

    @strawberry.field(description="The PDF's size in bytes, or null when it has none.")
    def pdf_size(self) -> int | None:
        return self.row.pdf_size if self.row.pdf_key else None

    @strawberry.field(
        description=(
            "A link to download the PDF (null when it has none), for you alone: valid for "
            "five minutes, while your session lasts and you may still see the document "
            "(checked at download time); do not share it."
        )
    )
    def pdf_url(self, info: Info) -> str | None:
        if not self.row.pdf_key:
            return None
        path = f"/business-documents/{global_id('BusinessDocument', self.row.id)}/pdf"
        return download_link(info, path, DownloadKind.BUSINESS_DOCUMENT_PDF, self.row.id)

    @strawberry.field(
        description="Whether you may accept or decline it now (a SENT quote, not expired, "
        "and you are its customer's lead contact or account team)."
    )
    async def can_decide(self, info: Info) -> bool:
        viewer = info.context.require_viewer()
        return effective_status(self.row) is BusinessDocumentStatus.SENT and (
            await policy.can_decide_quote(viewer, self.row)
        )

    @strawberry.field(description="The external system that issued it (staff only; else null).")
    def external_source(self, info: Info) -> str | None:
        return self.row.source if info.context.require_viewer().is_staff else None

    @strawberry.field(description="Its ID in that system (staff only; else null).")
    def external_id(self, info: Info) -> str | None:
        return self.row.external_id if info.context.require_viewer().is_staff else None
