"""The timeline subscriptions: ``projectTimeline``, ``myFeed`` and
``unreadNotificationCount``, made of the parts in graphql_schema/subscriptions.py."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from graphql_schema import subscriptions
from graphql_schema.context import Info
from graphql_schema.notifications.queries import readable_notifications
from graphql_schema.permissions import CanSeeProject, IsAuthenticated, rule
from graphql_schema.relay import node_pk
from graphql_schema.timeline.types import ProjectTimelineEvent, stream_item
from realtime.channels import feed_channel, inbox_channel, project_channel
from realtime.stream import decode_cursor


@strawberry.type
class Subscription:
    @strawberry.subscription(
        extensions=rule(CanSeeProject),
        description=(
            "A project's timeline, live. With `after`, the events after that cursor are "
            "replayed first, then live ones follow, in order, without gaps or repeats."
        ),
    )
    async def project_timeline(
        self, info: Info, project_id: strawberry.ID, after: str | None = None
    ) -> AsyncGenerator[ProjectTimelineEvent, None]:
        viewer = info.context.require_viewer()
        project = await subscriptions.visible_project(viewer, node_pk(project_id, "Project"))
        cursor = decode_cursor(after) if after is not None else None
        bus = info.context.bus
        async with subscriptions.Frames(info, project_channel(project.id), stream_item) as frames:
            async for item in subscriptions.project_timeline(
                viewer, bus, project.id, cursor, send=frames.send, send_now=frames.send_now
            ):
                yield frames.item(item)  # type: ignore[misc]

    @strawberry.subscription(
        extensions=rule(IsAuthenticated),
        description=(
            "Everything that notifies you (your watches at their levels, mentions, replies), "
            "live; with `after`, what came after that cursor is replayed first."
        ),
    )
    async def my_feed(
        self, info: Info, after: str | None = None
    ) -> AsyncGenerator[ProjectTimelineEvent, None]:
        viewer = info.context.require_viewer()
        cursor = decode_cursor(after) if after is not None else None
        bus = info.context.bus
        async with subscriptions.Frames(info, feed_channel(viewer.id), stream_item) as frames:
            async for item in subscriptions.my_feed(
                viewer, bus, cursor, send=frames.send, send_now=frames.send_now
            ):
                yield frames.item(item)  # type: ignore[misc]

    @strawberry.subscription(
        extensions=rule(IsAuthenticated),
        description="Your unread notification count: now, then whenever it changes.",
    )
    async def unread_notification_count(self, info: Info) -> AsyncGenerator[int, None]:
        viewer = info.context.require_viewer()
        unread = readable_notifications(viewer).filter(read_at=None)
        last: int | None = None
        async with subscriptions.Signals(info.context.bus, inbox_channel(viewer.id)) as changes:
            while True:
                count = await unread.count()
                if count != last:
                    last = count
                    yield count
                await changes.next()  # after falling behind too: count again
