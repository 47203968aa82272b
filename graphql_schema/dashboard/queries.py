from __future__ import annotations

import strawberry

from actions import dashboard as reading
from graphql_schema.context import Info
from graphql_schema.dashboard.types import Dashboard
from graphql_schema.permissions import IsAuthenticated, rule


@strawberry.type
class Query:
    @strawberry.field(
        extensions=rule(IsAuthenticated),
        description=(
            'What waits for your action now (README "Dashboard"): requests, posts, drafts, '
            "quotes, documents and notifications, each with its reason and since when."
        ),
    )
    async def dashboard(self, info: Info) -> Dashboard:
        viewer = info.context.require_viewer()
        return Dashboard(board=await reading.dashboard(viewer, info.context.settings))
