from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from graphql_schema.context import Info
from graphql_schema.relay import Connection
from graphql_schema.rows import FromRow
from graphql_schema.timeline.types import ProjectTimelineEvent, timeline_event
from models import Notification as NotificationRow
from models import NotificationReason

strawberry.enum(
    NotificationReason,
    description=(
        "Why you were told: MENTIONED, REPLIED (to your post), PARTICIPATING (you worked on "
        "it), WATCHING (you watch it or what contains it)."
    ),
)


@strawberry.type(description="What an event produced for you, with read state.")
class Notification(FromRow, relay.Node):
    id: relay.NodeID[int]
    reason: NotificationReason
    created_at: datetime
    read_at: datetime | None
    row: strawberry.Private[NotificationRow]

    @strawberry.field(description="What happened.")
    async def event(self, info: Info) -> ProjectTimelineEvent:
        row = await info.context.loaders.event.load(self.row.event_id)
        if row is None:
            raise LookupError(f"event {self.row.event_id} is referenced but missing")
        return timeline_event(row)  # type: ignore[return-value]


@strawberry.type(description="Your notifications, newest first.")
class NotificationConnection(Connection[Notification]):
    _unread: strawberry.Private[int]

    @strawberry.field(description="How many of all your notifications are unread.")
    def unread_count(self) -> int:
        return self._unread
