from __future__ import annotations

from decimal import Decimal

import strawberry

from actions import customers
from graphql_schema.context import Info
from graphql_schema.customers.types import Customer
from graphql_schema.permissions import IsAdmin, rule
from graphql_schema.relay import global_ids_to_ints


@strawberry.input
class CreateCustomerInput:
    name: str
    slug: str | None = None
    internal_notes: str = ""
    annual_budget: Decimal | None = None
    account_team_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.type
class CreateCustomerPayload:
    customer: Customer


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=rule(IsAdmin), description="Add a customer (administrators).")
    async def create_customer(
        self, info: Info, input: CreateCustomerInput
    ) -> CreateCustomerPayload | None:
        customer = await customers.create_customer(
            info.context.require_viewer(),
            name=input.name,
            slug=input.slug,
            internal_notes=input.internal_notes,
            annual_budget=input.annual_budget,
            account_team_ids=global_ids_to_ints(input.account_team_ids, "User"),
        )
        return CreateCustomerPayload(customer=Customer.from_row(customer))
