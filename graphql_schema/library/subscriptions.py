"""``libraryEvents``: the library events the viewer may see, replayed from a cursor, then
live (as ``requestEvents``).

Every library event goes to one channel (realtime/channels.py ``library_channel``); each
subscriber receives those of its scope, checked for each event, replayed or live: staff
every event; a contact the SHARED events of the documents they may read now (the shared
documents offered to their customer and their customer's own, a member's in folders open
to members, never a DRAFT), and of acknowledgements only their own customer's.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable

import strawberry
from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from domain import policy
from domain.errors import Conflict
from graphql_schema import subscriptions
from graphql_schema.context import Info
from graphql_schema.library.events import LibraryEvent
from graphql_schema.permissions import CanSeeLibraryDocument, rule
from graphql_schema.relay import fetch_by_global_id
from models import Event, LibraryDocument, User
from models.events import LIBRARY_EVENT_KINDS
from realtime.channels import library_channel
from realtime.stream import decode_cursor, encode_cursor


def _of_customer(events: QuerySet[Event], customer_id: int | None) -> QuerySet[Event]:
    events = events.filter(kind__in=list(LIBRARY_EVENT_KINDS))
    if customer_id is None:
        return events
    own = Subquery(LibraryDocument.filter(customer_id=customer_id).values("id"))
    return events.filter(Q(library_document_id__in=own) | Q(customer_id=customer_id))


def library_events(viewer: User, customer_id: int | None = None) -> QuerySet[Event]:
    """The library events ``viewer`` may read now (``policy.visible_events``); with
    ``customer_id``, only those of that customer's library and its contacts'
    acknowledgements."""
    return _of_customer(policy.visible_events(viewer), customer_id)


def _admit(viewer: User, customer_id: int | None) -> Callable[[Event], Awaitable[bool]] | None:
    if viewer.is_staff and customer_id is None:
        return None

    async def admit(event: Event) -> bool:
        return await library_events(viewer, customer_id).filter(id=event.id).exists()

    return admit


@strawberry.type
class Subscription:
    @strawberry.subscription(
        extensions=rule(CanSeeLibraryDocument),
        description=(
            "The events of the library documents you may see, live: staff every one, a "
            "contact those of the shared documents offered to their customer and of their "
            "customer's library (never a DRAFT), and their own customer's acknowledgements. "
            "With `customerId`, only that customer's library and its contacts' "
            "acknowledgements (NOT_FOUND for a customer you may not see). With `after`, the "
            "events after that cursor are replayed first, then live ones follow, in order, "
            "without gaps or repeats; a cursor older than the event log ends the stream "
            "with CONFLICT (`extensions.cursor`: fetch again, then subscribe from it)."
        ),
    )
    async def library_events(
        self, info: Info, customer_id: strawberry.ID | None = None, after: str | None = None
    ) -> AsyncGenerator[LibraryEvent, None]:
        viewer = info.context.require_viewer()
        customer = None
        if customer_id is not None:
            row = await fetch_by_global_id(
                policy.visible_customers(viewer), customer_id, "Customer"
            )
            customer = row.id
        cursor = decode_cursor(after) if after is not None else None
        async for item in subscriptions.timeline_events(
            viewer,
            info.context.bus,
            library_channel(),
            scope=lambda: library_events(viewer, customer),
            everything=_of_customer(Event.all(), customer),
            access=subscriptions.account_access(viewer),
            after=cursor,
            admit=_admit(viewer, customer),
        ):
            if isinstance(item, subscriptions.ResyncRequired):
                raise Conflict(
                    "The events after this cursor were pruned: fetch the library again, "
                    "then subscribe after `extensions.cursor`.",
                    cursor=encode_cursor(item.cursor),
                )
            info.context.loaders.reset()  # read the document as it is now
            yield LibraryEvent(row=item)
