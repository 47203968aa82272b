from __future__ import annotations

import strawberry

from domain import policy
from graphql_schema.context import Info
from graphql_schema.customers.types import Customer
from graphql_schema.permissions import CanSeeCustomer, rule
from graphql_schema.relay import DEFAULT_PAGE_SIZE, Connection, fetch_by_global_id, paginate


@strawberry.type
class Query:
    @strawberry.field(extensions=rule(CanSeeCustomer), description="Customers you may see.")
    async def customers(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Customer]:
        customers = policy.visible_customers(info.context.require_viewer())
        return await paginate(customers, first=first, after=after, to_node=Customer.from_row)

    @strawberry.field(extensions=rule(CanSeeCustomer))
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        scope = policy.visible_customers(info.context.require_viewer())
        return Customer.from_row(await fetch_by_global_id(scope, id, "Customer"))
