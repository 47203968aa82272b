from __future__ import annotations

import strawberry

from graphql_schema.accounts.types import User
from graphql_schema.context import Info
from graphql_schema.permissions import IsAuthenticated, rule


@strawberry.type
class Query:
    @strawberry.field(extensions=rule(IsAuthenticated), description="The signed-in user.")
    def me(self, info: Info) -> User | None:
        return User.from_row(info.context.require_viewer())
