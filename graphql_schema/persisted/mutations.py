from __future__ import annotations

import strawberry

from actions import persisted
from graphql_schema.context import Info
from graphql_schema.permissions import IsAdmin, rule
from graphql_schema.persisted.documents import to_register
from graphql_schema.persisted.types import PersistedQuery


@strawberry.input
class RegisterPersistedQueryInput:
    query: str = strawberry.field(description="The document's text, exactly as clients send it.")


@strawberry.type
class RegisterPersistedQueryPayload:
    persisted_query: PersistedQuery
    created: bool = strawberry.field(description="False when it was registered before.")


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=rule(IsAdmin),
        description="Register a document that a server running only registered operations "
        "accepts (administrators; audited).",
    )
    async def register_persisted_query(
        self, info: Info, input: RegisterPersistedQueryInput
    ) -> RegisterPersistedQueryPayload | None:
        ctx = info.context
        viewer = ctx.require_viewer()
        document = to_register(info.schema._schema, input.query, ctx.settings.query_limits)
        row, created = await persisted.register_persisted_query(
            viewer, document, client_address=ctx.client_address
        )
        return RegisterPersistedQueryPayload(
            persisted_query=PersistedQuery.from_row(row), created=created
        )
