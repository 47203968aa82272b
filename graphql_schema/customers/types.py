from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from actions.invitations import email_domains
from domain import policy
from graphql_schema.accounts.types import User
from graphql_schema.context import Info
from graphql_schema.enums import ProjectStatus, WatchLevel
from graphql_schema.permissions import CanSeeBudget, IsStaff, rule
from graphql_schema.relay import DEFAULT_PAGE_SIZE, Connection, paginate
from graphql_schema.rows import FromRow
from graphql_schema.varies import BY_AUDIENCE, SAME_FOR_EVERY_READER
from models import Customer as CustomerRow

if TYPE_CHECKING:
    from graphql_schema.budgets.types import BudgetOverview, YearReview
    from graphql_schema.projects.types import Project


@strawberry.type(description="A B2B customer of the provider.")
class Customer(FromRow, relay.Node):
    id: relay.NodeID[int]
    name: str
    slug: str
    created_at: datetime
    row: strawberry.Private[CustomerRow]

    @strawberry.field(extensions=rule(IsStaff), description="The account team's own notes.")
    def internal_notes(self) -> str | None:
        return self.row.internal_notes

    @strawberry.field(
        metadata=SAME_FOR_EVERY_READER,
        description="Whether its contacts must sign in with a second factor.",
    )
    def mfa_required(self) -> bool:
        return self.row.mfa_required

    @strawberry.field(
        metadata=SAME_FOR_EVERY_READER,
        description="Its email domains: its lead contacts may invite addresses of these only.",
    )
    async def email_domains(self) -> list[str]:
        return await email_domains(self.row.id)

    @strawberry.field(extensions=rule(IsStaff), description="Commercial figure, staff only.")
    def annual_budget(self) -> Decimal | None:
        return self.row.annual_budget

    @strawberry.field(
        extensions=rule(CanSeeBudget),
        description="The annual budget against what all its projects spent and committed, "
        "monthly burn and the year-end projection, per currency.",
    )
    async def budget_overview(
        self,
    ) -> Annotated[BudgetOverview, strawberry.lazy("graphql_schema.budgets.types")] | None:
        from graphql_schema.budgets.types import customer_overview

        return await customer_overview(self.row)

    @strawberry.field(
        extensions=rule(CanSeeBudget),
        description="A review of each past year with spending or requests, newest first.",
    )
    async def year_reviews(
        self,
    ) -> list[Annotated[YearReview, strawberry.lazy("graphql_schema.budgets.types")]] | None:
        from graphql_schema.budgets.types import customer_reviews

        return await customer_reviews(self.row)

    @strawberry.field(
        metadata=SAME_FOR_EVERY_READER,
        description="The provider's staff who look after this customer.",
    )
    async def account_team(self, info: Info) -> list[User]:
        members = await info.context.loaders.account_team.load(self.row.id)
        return [User.from_row(u) for u in sorted(members, key=lambda u: u.name)]

    @strawberry.field(metadata=BY_AUDIENCE, description="The customer's contacts.")
    async def contacts(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[User]:
        viewer = info.context.require_viewer()
        users = policy.visible_users(viewer).filter(customer_id=self.row.id, is_active=True)
        return await paginate(users, first=first, after=after, to_node=User.from_row)

    @strawberry.field(metadata=BY_AUDIENCE, description="The customer's projects that you may see.")
    async def projects(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        status: ProjectStatus | None = None,
    ) -> Connection[Annotated[Project, strawberry.lazy("graphql_schema.projects.types")]]:
        from graphql_schema.projects.types import Project

        viewer = info.context.require_viewer()
        projects = policy.visible_projects(viewer).filter(customer_id=self.row.id)
        if status is not None:
            projects = projects.filter(status=status)
        return await paginate(projects, first=first, after=after, to_node=Project.from_row)

    @strawberry.field(description="Your own watch level here, if you set one.")
    async def viewer_watch_level(self, info: Info) -> WatchLevel | None:
        info.context.require_viewer()
        return await info.context.loaders.effective_watch_level(customer_id=self.row.id)
