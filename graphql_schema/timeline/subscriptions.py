from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from app import policy
from graphql_schema.context import Info
from graphql_schema.permissions import IsAuthenticated, rule
from graphql_schema.relay import fetch_by_global_id
from graphql_schema.timeline.types import ProjectTimelineEvent, timeline_event
from realtime import stream


@strawberry.type
class Subscription:
    @strawberry.subscription(
        extensions=rule(IsAuthenticated),
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
        async for event in events:
            info.context.loaders.reset()
            yield timeline_event(event)  # type: ignore[misc]
