"""Business document events as clients receive them (``businessDocumentEvents``,
notifications)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain import policy
from graphql_schema.accounts.types import User, load_user
from graphql_schema.business_documents.types import BusinessDocument
from graphql_schema.context import Info
from models import BusinessDocument as DocumentRow
from models import BusinessDocumentStatus, EventKind
from models import Event as EventRow
from models import events as payloads
from realtime.stream import encode_cursor


def document_id_of(row: EventRow) -> int:
    details = row.details
    assert isinstance(details, payloads.BusinessDocumentPayload)
    return details.document_id


@strawberry.interface(description="Something that happened to a business document.")
class BusinessDocumentActivity:
    row: strawberry.Private[EventRow]

    @strawberry.field(description="Resume after this event with `after: cursor`.")
    def cursor(self) -> str:
        return encode_cursor(self.row.id)

    @strawberry.field
    def occurred_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(description="Who did it (for the product's own changes: who issued it).")
    async def actor(self, info: Info) -> User:
        return await load_user(info, self.row.actor_id)

    @strawberry.field(description="The document as it is now (null if you may not see it).")
    async def document(self, info: Info) -> BusinessDocument | None:
        viewer = info.context.require_viewer()
        row: DocumentRow | None = await policy.visible_business_documents(viewer).get_or_none(
            id=document_id_of(self.row)
        )
        return BusinessDocument.from_row(row) if row else None


@strawberry.type(description="A document was issued to the customer.")
class BusinessDocumentPublished(BusinessDocumentActivity):
    pass


@strawberry.type(description="A document's status changed (by itself: `automatic`).")
class BusinessDocumentStatusChanged(BusinessDocumentActivity):
    @strawberry.field(name="from")
    def from_status(self) -> BusinessDocumentStatus:
        details = self.row.details
        assert isinstance(details, payloads.BusinessDocumentStatusChanged)
        return BusinessDocumentStatus(details.from_status)

    @strawberry.field(name="to")
    def to_status(self) -> BusinessDocumentStatus:
        details = self.row.details
        assert isinstance(details, payloads.BusinessDocumentStatusChanged)
        return BusinessDocumentStatus(details.to_status)

    @strawberry.field(description="True when the product moved it (an invoice past due).")
    def automatic(self) -> bool:
        details = self.row.details
        assert isinstance(details, payloads.BusinessDocumentStatusChanged)
        return details.automatic


@strawberry.type(description="A quote was accepted.")
class QuoteAccepted(BusinessDocumentActivity):
    @strawberry.field
    def note(self) -> str:
        details = self.row.details
        assert isinstance(details, payloads.QuoteAccepted)
        return details.note


@strawberry.type(description="A quote was declined.")
class QuoteDeclined(BusinessDocumentActivity):
    @strawberry.field
    def note(self) -> str:
        details = self.row.details
        assert isinstance(details, payloads.QuoteAccepted)
        return details.note


_BY_KIND: dict[EventKind, type[BusinessDocumentActivity]] = {
    EventKind.BUSINESS_DOCUMENT_PUBLISHED: BusinessDocumentPublished,
    EventKind.BUSINESS_DOCUMENT_STATUS_CHANGED: BusinessDocumentStatusChanged,
    EventKind.QUOTE_ACCEPTED: QuoteAccepted,
    EventKind.QUOTE_DECLINED: QuoteDeclined,
}


def document_activity(row: EventRow) -> BusinessDocumentActivity:
    return _BY_KIND[row.kind](row=row)
