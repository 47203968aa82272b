"""``requestEvents``: the request events the viewer may see, replayed from a cursor, then
live, exactly like ``projectTimeline`` (graphql_schema/subscriptions.py).

Request events are published on their customer's request channel and on the staff's
(realtime/channels.py): staff listen to the latter, a contact to their customer's, where a
contact who is not its lead contact receives only the events of requests they requested or
participate in (checked for each live event), never INTERNAL ones.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Annotated

import strawberry
from tortoise.queryset import QuerySet

from domain import policy
from graphql_schema import subscriptions
from graphql_schema.context import Info
from graphql_schema.permissions import CanSeeRequest, rule
from graphql_schema.requests.events import (
    RequestAssigned,
    RequestDocumentAdded,
    RequestDueDateChanged,
    RequestParticipantAdded,
    RequestReminded,
    RequestReplied,
    RequestSlaBreached,
    RequestSlaWarning,
    RequestStatusChanged,
    RequestSubmitted,
    request_activity,
)
from graphql_schema.timeline.types import ResyncRequired
from models import Event, Role, User
from realtime.channels import customer_requests_channel, requests_channel
from realtime.stream import decode_cursor, encode_cursor

RequestEvent = Annotated[
    RequestSubmitted
    | RequestStatusChanged
    | RequestAssigned
    | RequestReplied
    | RequestDocumentAdded
    | RequestDueDateChanged
    | RequestParticipantAdded
    | RequestSlaWarning
    | RequestSlaBreached
    | RequestReminded
    | ResyncRequired,
    strawberry.union("RequestEvent", description="One change of a request you may see."),
]


def _scope(viewer: User) -> Callable[[], QuerySet[Event]]:
    def scope() -> QuerySet[Event]:
        return policy.visible_events(viewer).filter(request_id__isnull=False)

    return scope


def _admit(viewer: User) -> Callable[[Event], Awaitable[bool]] | None:
    """A contact who is not the lead contact sees only some of the customer's requests."""
    if viewer.role is not Role.CUSTOMER_MEMBER:
        return None

    async def admit(event: Event) -> bool:
        return event.request_id is not None and await policy.can_see_request(
            viewer, event.request_id
        )

    return admit


@strawberry.type
class Subscription:
    @strawberry.subscription(
        extensions=rule(CanSeeRequest),
        description=(
            "The events of every request you may see, live. With `after`, the events after "
            "that cursor are replayed first, then live ones follow, in order, without gaps "
            "or repeats."
        ),
    )
    async def request_events(
        self, info: Info, after: str | None = None
    ) -> AsyncGenerator[RequestEvent, None]:
        viewer = info.context.require_viewer()
        cursor = decode_cursor(after) if after is not None else None
        if viewer.is_staff:
            channel = requests_channel()
            everything = Event.filter(request_id__isnull=False)
        else:
            assert viewer.customer_id is not None
            channel = customer_requests_channel(viewer.customer_id)
            everything = Event.filter(customer_id=viewer.customer_id, request_id__isnull=False)
        async for item in subscriptions.timeline_events(
            viewer,
            info.context.bus,
            channel,
            scope=_scope(viewer),
            everything=everything,
            access=subscriptions.account_access(viewer),
            after=cursor,
            admit=_admit(viewer),
        ):
            if isinstance(item, subscriptions.ResyncRequired):
                yield ResyncRequired(cursor=encode_cursor(item.cursor))
            else:
                info.context.loaders.reset()  # read the request as it is now
                yield request_activity(item)  # type: ignore[misc]
