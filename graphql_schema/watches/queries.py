from __future__ import annotations

import strawberry

from graphql_schema.context import Info
from graphql_schema.permissions import IsAuthenticated, rule
from graphql_schema.relay import DEFAULT_PAGE_SIZE, Connection, paginate
from graphql_schema.watches.types import Watch
from models import Watch as WatchRow


@strawberry.type
class Query:
    @strawberry.field(extensions=rule(IsAuthenticated), description="What you watch.")
    async def watches(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Watch]:
        own = WatchRow.filter(user_id=info.context.require_viewer().id)
        return await paginate(own, first=first, after=after, to_node=Watch.from_row)
