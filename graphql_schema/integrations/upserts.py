"""CRM/ERP sync by external ID: ``upsertCustomer``, ``upsertProject``, ``upsertContact``.

Each creates the object that ``externalId`` of ``source`` names, or updates it; the
payload's ``created`` says which. Running the same sync again changes nothing."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from actions import upserts
from graphql_schema.accounts.types import User
from graphql_schema.context import Info
from graphql_schema.customers.types import Customer
from graphql_schema.enums import Role
from graphql_schema.permissions import CanSync, rule
from graphql_schema.projects.types import Project
from graphql_schema.relay import node_pk

_SOURCE = "The external system (`crm`, `erp`...): external IDs are unique per source."


@strawberry.input
class UpsertCustomerInput:
    source: str = strawberry.field(description=_SOURCE)
    external_id: str
    name: str
    slug: str | None = strawberry.field(
        default=None, description="Made from the name when a customer is created without one."
    )
    internal_notes: str | None = None
    annual_budget: Decimal | None = None
    account_team_emails: list[str] | None = strawberry.field(
        default=None, description="The account team becomes exactly these staff; null: kept."
    )


@strawberry.type
class UpsertCustomerPayload:
    customer: Customer
    created: bool = strawberry.field(description="True: created now; false: it existed.")


@strawberry.input
class UpsertProjectInput:
    source: str = strawberry.field(description=_SOURCE)
    external_id: str
    name: str
    customer_id: strawberry.ID | None = None
    customer_external_id: str | None = strawberry.field(
        default=None, description="The customer by its external ID of the same source."
    )
    description: str | None = None
    budget: Decimal | None = None


@strawberry.type
class UpsertProjectPayload:
    project: Project
    created: bool


@strawberry.input
class UpsertContactInput:
    source: str = strawberry.field(description=_SOURCE)
    external_id: str
    email: str
    name: str
    role: Role = Role.CUSTOMER_MEMBER
    customer_id: strawberry.ID | None = None
    customer_external_id: str | None = None
    project_external_ids: list[str] | None = strawberry.field(
        default=None, description="Projects (by external ID) the contact becomes a member of."
    )


@strawberry.type
class UpsertContactPayload:
    user: User
    created: bool
    invited: bool = strawberry.field(
        description="True: a new contact, mailed an invitation with which they choose their "
        "password (`acceptInvitation`)."
    )


def _customer_pk(value: strawberry.ID | None) -> int | None:
    return node_pk(value, "Customer") if value is not None else None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=rule(CanSync),
        description="Create (administrators) or update (the account team) a customer by "
        "external ID.",
    )
    async def upsert_customer(
        self, info: Info, input: UpsertCustomerInput
    ) -> UpsertCustomerPayload:
        done = await upserts.upsert_customer(
            info.context.require_viewer(),
            source=input.source,
            external_id=input.external_id,
            name=input.name,
            slug=input.slug,
            internal_notes=input.internal_notes,
            annual_budget=input.annual_budget,
            account_team_emails=input.account_team_emails,
        )
        return UpsertCustomerPayload(customer=Customer.from_row(done.row), created=done.created)

    @strawberry.mutation(
        extensions=rule(CanSync),
        description="Create (the customer's account team) or update (who manages it) a project "
        "by external ID.",
    )
    async def upsert_project(self, info: Info, input: UpsertProjectInput) -> UpsertProjectPayload:
        done = await upserts.upsert_project(
            info.context.require_viewer(),
            source=input.source,
            external_id=input.external_id,
            name=input.name,
            customer_id=_customer_pk(input.customer_id),
            customer_external_id=input.customer_external_id,
            description=input.description,
            budget=input.budget,
        )
        return UpsertProjectPayload(project=Project.from_row(done.row), created=done.created)

    @strawberry.mutation(
        extensions=rule(CanSync),
        description="Create (with an invitation, no password) or update a customer's contact "
        "by external ID (those who may invite its contacts).",
    )
    async def upsert_contact(self, info: Info, input: UpsertContactInput) -> UpsertContactPayload:
        done = await upserts.upsert_contact(
            info.context.require_viewer(),
            source=input.source,
            external_id=input.external_id,
            email=input.email,
            name=input.name,
            role=input.role,
            customer_id=_customer_pk(input.customer_id),
            customer_external_id=input.customer_external_id,
            project_external_ids=input.project_external_ids,
        )
        return UpsertContactPayload(
            user=User.from_row(done.row),
            created=done.created,
            invited=done.invitation_token is not None,
        )
