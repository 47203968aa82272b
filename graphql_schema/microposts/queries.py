from __future__ import annotations

import strawberry

from domain import policy
from domain.errors import NotFound
from domain.text import normalise_topic
from graphql_schema.context import Info
from graphql_schema.microposts.types import Topic
from graphql_schema.permissions import CanSeeTopic, rule


@strawberry.type
class Query:
    @strawberry.field(extensions=rule(CanSeeTopic), description="A #topic by its name.")
    async def topic(self, info: Info, name: str) -> Topic | None:
        normalised = normalise_topic(name)
        row = None
        if normalised is not None:
            scope = policy.visible_topics(info.context.require_viewer())
            row = await scope.get_or_none(name=normalised)
        if row is None:
            raise NotFound("topic")
        return Topic.from_row(row)
