from __future__ import annotations

import strawberry

from actions.interactions import record_read
from domain import policy
from graphql_schema.context import Info
from graphql_schema.pages.types import Page
from graphql_schema.permissions import CanSeePage, rule
from graphql_schema.relay import fetch_by_global_id
from models import ContentKind


@strawberry.type
class Query:
    @strawberry.field(extensions=rule(CanSeePage))
    async def page(self, info: Info, id: strawberry.ID) -> Page | None:
        viewer = info.context.require_viewer()
        row = await fetch_by_global_id(policy.visible_pages(viewer), id, "Page")
        await record_read(viewer, ContentKind.PAGE, row.id, info.context.session_id)
        return Page.from_row(row)
