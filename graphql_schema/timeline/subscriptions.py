from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

import strawberry

from domain import policy
from graphql_schema.context import Info
from graphql_schema.notifications.queries import readable_notifications
from graphql_schema.permissions import CanSeeProject, IsAuthenticated, rule
from graphql_schema.relay import fetch_by_global_id
from graphql_schema.sharing import current_delivery
from graphql_schema.timeline.types import ProjectTimelineEvent, stream_item
from models import Event as EventRow
from realtime import stream
from realtime._fanout import FellBehind
from realtime.channels import feed_channel, inbox_channel, project_channel


async def _delivered(
    info: Info, channel: str, events: AsyncIterator[EventRow | stream.ResyncRequired]
) -> AsyncGenerator[ProjectTimelineEvent, None]:
    """The stream's events, each executed once per sharing key (before the channel's
    subscribers are woken for it) and sent as shared text (see graphql_schema/sharing.py);
    what is not an event is yielded to strawberry."""
    delivery = current_delivery()
    stop_preparing = (
        delivery.prepare_on(info, info.context.bus, channel, stream_item) if delivery else None
    )
    try:
        async for event in events:
            if delivery is not None and isinstance(event, EventRow):
                await delivery.send(info, event, stream_item)
                continue
            if isinstance(event, EventRow):
                info.context.loaders.reset(info.context.shared_rows.for_event(event))
            yield stream_item(event)  # type: ignore[misc]
    finally:
        if stop_preparing is not None:
            stop_preparing()


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
        project = await fetch_by_global_id(policy.visible_projects(viewer), project_id, "Project")
        cursor = stream.decode_cursor(after) if after is not None else None
        events = stream.project_timeline(viewer, info.context.bus, project.id, cursor)
        async for item in _delivered(info, project_channel(project.id), events):
            yield item

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
        cursor = stream.decode_cursor(after) if after is not None else None
        events = stream.my_feed(viewer, info.context.bus, cursor)
        async for item in _delivered(info, feed_channel(viewer.id), events):
            yield item

    @strawberry.subscription(
        extensions=rule(IsAuthenticated),
        description="Your unread notification count: now, then whenever it changes.",
    )
    async def unread_notification_count(self, info: Info) -> AsyncGenerator[int, None]:
        viewer = info.context.require_viewer()
        unread = readable_notifications(viewer).filter(read_at=None)
        last: int | None = None
        while True:
            async with info.context.bus.subscribe(inbox_channel(viewer.id)) as changes:
                try:
                    while True:
                        count = await unread.count()
                        if count != last:
                            last = count
                            yield count
                        await changes.get()
                except FellBehind:
                    # only "the count changed" signals were dropped: subscribe again, recount
                    continue
