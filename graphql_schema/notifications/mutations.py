from __future__ import annotations

import strawberry

from actions import notifications
from graphql_schema.context import Info
from graphql_schema.notifications.queries import readable_notifications
from graphql_schema.permissions import IsAuthenticated, rule
from graphql_schema.relay import global_ids_to_ints


@strawberry.input
class MarkNotificationsReadInput:
    notification_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Leave out to mark all your notifications read."
    )


@strawberry.type
class MarkNotificationsReadPayload:
    marked: int = strawberry.field(description="How many were unread and are read now.")
    unread_count: int


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=rule(IsAuthenticated))
    async def mark_notifications_read(
        self, info: Info, input: MarkNotificationsReadInput
    ) -> MarkNotificationsReadPayload | None:
        viewer = info.context.require_viewer()
        ids = None
        if input.notification_ids is not None:
            ids = global_ids_to_ints(input.notification_ids, "Notification")
        marked = await notifications.mark_read(viewer, info.context.bus, ids)
        unread = await readable_notifications(viewer).filter(read_at=None).count()
        return MarkNotificationsReadPayload(marked=marked, unread_count=unread)
