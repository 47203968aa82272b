"""``businessDocumentEvents``: the business document events the viewer may see, replayed
from a cursor, then live (as ``requestEvents``).

They are published on their customer's documents channel and on the staff's
(realtime/channels.py): staff listen to the latter, a contact to their customer's, where a
``CUSTOMER_MEMBER`` receives only the events of documents they may see (checked for each
event, replayed or live).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Annotated

import strawberry
from tortoise.queryset import QuerySet

from domain import policy
from graphql_schema import subscriptions
from graphql_schema.business_documents.events import (
    BusinessDocumentPublished,
    BusinessDocumentStatusChanged,
    QuoteAccepted,
    QuoteDeclined,
    document_activity,
    document_id_of,
)
from graphql_schema.context import Info
from graphql_schema.permissions import CanSeeBusinessDocument, rule
from graphql_schema.timeline.types import ResyncRequired
from models import Event, Role, User, Visibility
from models.events import BUSINESS_DOCUMENT_EVENT_KINDS
from realtime.channels import customer_documents_channel, documents_channel
from realtime.stream import decode_cursor, encode_cursor

BusinessDocumentEvent = Annotated[
    BusinessDocumentPublished
    | BusinessDocumentStatusChanged
    | QuoteAccepted
    | QuoteDeclined
    | ResyncRequired,
    strawberry.union(
        "BusinessDocumentEvent", description="One change of a business document you may see."
    ),
]


def _events(viewer: User) -> QuerySet[Event]:
    kinds = list(BUSINESS_DOCUMENT_EVENT_KINDS)
    if viewer.is_staff:
        return Event.filter(kind__in=kinds)
    return Event.filter(customer_id=viewer.customer_id, kind__in=kinds)


def _scope(viewer: User) -> Callable[[], QuerySet[Event]]:
    def scope() -> QuerySet[Event]:
        events = _events(viewer)
        return events if viewer.is_staff else events.filter(visibility=Visibility.SHARED)

    return scope


@strawberry.type
class Subscription:
    @strawberry.subscription(
        extensions=rule(CanSeeBusinessDocument),
        description=(
            "The events of every business document you may see, live. With `after`, the "
            "events after that cursor are replayed first, then live ones follow, in order, "
            "without gaps or repeats."
        ),
    )
    async def business_document_events(
        self, info: Info, after: str | None = None
    ) -> AsyncGenerator[BusinessDocumentEvent, None]:
        viewer = info.context.require_viewer()
        cursor = decode_cursor(after) if after is not None else None
        if viewer.is_staff:
            channel = documents_channel()
        else:
            assert viewer.customer_id is not None
            channel = customer_documents_channel(viewer.customer_id)
        member = viewer.role is Role.CUSTOMER_MEMBER
        async for item in subscriptions.timeline_events(
            viewer,
            info.context.bus,
            channel,
            scope=_scope(viewer),
            everything=_events(viewer),
            access=subscriptions.account_access(viewer),
            after=cursor,
        ):
            if isinstance(item, subscriptions.ResyncRequired):
                yield ResyncRequired(cursor=encode_cursor(item.cursor))
                continue
            if member and not await policy.can_see_business_document(viewer, document_id_of(item)):
                continue
            info.context.loaders.reset()  # read the document as it is now
            yield document_activity(item)  # type: ignore[misc]
