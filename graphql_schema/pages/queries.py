from __future__ import annotations

import strawberry

from domain import policy
from graphql_schema.context import Info
from graphql_schema.pages.types import Page
from graphql_schema.permissions import CanSeePage, rule
from graphql_schema.relay import fetch_by_global_id


@strawberry.type
class Query:
    @strawberry.field(extensions=rule(CanSeePage))
    async def page(self, info: Info, id: strawberry.ID) -> Page | None:
        scope = policy.visible_pages(info.context.require_viewer())
        return Page.from_row(await fetch_by_global_id(scope, id, "Page"))
