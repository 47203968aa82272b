"""The budget figures of a project or a customer, and reviews of past years, as readers
see them (the fields that answer them carry ``@canSeeBudget``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from actions.budgets import customer_budget, customer_year_reviews, project_budget
from domain import budgets
from graphql_schema.context import Info
from graphql_schema.projects.types import Project, load_project
from graphql_schema.varies import SAME_FOR_EVERY_READER
from models import Customer as CustomerRow
from models import Project as ProjectRow


@strawberry.type(description="An amount (exact decimal, 2 places) in one currency.")
class Money:
    amount: Decimal
    currency: str = strawberry.field(description="ISO 4217 code, such as EUR.")


@strawberry.type(description="What was spent (invoiced, less credit notes) in one month.")
class MonthlyBurn:
    month: date = strawberry.field(description="The month's first day.")
    amount: Decimal


@strawberry.type(
    description=(
        "What will have been spent at the end of `year`, linear on the monthly burn: spent "
        "this year + the rate for the rest of the current month (less its burn so far) + "
        "the rate for each month left; `low` and `high` use the rate less and plus the "
        "spread."
    )
)
class BudgetProjection:
    year: int
    expected: Decimal
    low: Decimal
    high: Decimal
    rate: Decimal = strawberry.field(
        description="The mean burn of the complete months since spending began (12 at most)."
    )
    spread: Decimal = strawberry.field(
        description="The population standard deviation of those months' burns."
    )
    basis_months: int = strawberry.field(description="How many complete months the rate is of.")


@strawberry.type(description="The figures of the business documents in one currency.")
class CurrencyBudget:
    currency: str = strawberry.field(description="ISO 4217 code, such as EUR.")
    spent: Decimal = strawberry.field(
        description="Invoiced: invoices not cancelled less credit notes not cancelled (net)."
    )
    committed: Decimal = strawberry.field(
        description=(
            "Accepted quotes and confirmed or delivered orders not yet invoiced: the larger of "
            "the two totals less spent, never below zero."
        )
    )
    remaining: Decimal | None = strawberry.field(
        description="The budget less spent and committed; null without a budget or where "
        "the documents are in more than one currency."
    )
    spent_this_year: Decimal
    burn: list[MonthlyBurn] = strawberry.field(
        description="Spent per month, the 12 months ending with the current one, oldest first."
    )
    projection: BudgetProjection | None = strawberry.field(
        description="Spent at the end of the year; null without a complete month of spending."
    )


@strawberry.type(
    description=(
        "A budget against what was spent and committed, per currency (amounts of different "
        "currencies are never added up)."
    )
)
class BudgetOverview:
    budget: Decimal | None = strawberry.field(
        description="The project's budget, or the customer's annual budget."
    )
    since: date | None = strawberry.field(
        description="Spent, committed and remaining count the documents issued from this "
        "day on: a customer's from the first day of the year (its budget is annual), a "
        "project's all (null)."
    )
    currencies: list[CurrencyBudget]


@strawberry.type(description="One project's share of a past year.")
class ProjectYearReview:
    spent: list[Money]
    request_count: int = strawberry.field(description="Requests submitted that year about it.")
    project_id: strawberry.Private[int]

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def project(self, info: Info) -> Project:
        return await load_project(info, self.project_id)

    @strawberry.field(metadata=SAME_FOR_EVERY_READER, description="The project's budget today.")
    async def budget(self, info: Info) -> Decimal | None:
        row = await info.context.loaders.project.load(self.project_id)
        return row.budget if row else None


@strawberry.type(
    description=(
        "A past calendar year of a customer: its budget (today's: budgets keep no history) "
        "against what was spent, requests submitted, and the projects worked on (with an "
        "invoice, a credit note or a request that year)."
    )
)
class YearReview:
    year: int
    budget: Decimal | None
    spent: list[Money]
    request_count: int
    project_count: int
    projects: list[ProjectYearReview]


def _money(values: list[budgets.Money]) -> list[Money]:
    return [Money(amount=m.amount, currency=m.currency) for m in values]


def _overview(figures: budgets.Overview) -> BudgetOverview:
    return BudgetOverview(
        budget=figures.budget,
        since=figures.since,
        currencies=[
            CurrencyBudget(
                currency=c.currency,
                spent=c.spent,
                committed=c.committed,
                remaining=c.remaining,
                spent_this_year=c.spent_this_year,
                burn=[MonthlyBurn(month=m.month, amount=m.amount) for m in c.burn],
                projection=BudgetProjection(
                    year=c.projection.year,
                    expected=c.projection.expected,
                    low=c.projection.low,
                    high=c.projection.high,
                    rate=c.projection.rate,
                    spread=c.projection.spread,
                    basis_months=c.projection.basis_months,
                )
                if c.projection
                else None,
            )
            for c in figures.currencies
        ],
    )


async def project_overview(project: ProjectRow) -> BudgetOverview:
    return _overview(await project_budget(project))


async def customer_overview(customer: CustomerRow) -> BudgetOverview:
    return _overview(await customer_budget(customer))


async def customer_reviews(customer: CustomerRow) -> list[YearReview]:
    return [
        YearReview(
            year=r.year,
            budget=r.budget,
            spent=_money(r.spent),
            request_count=r.request_count,
            project_count=r.project_count,
            projects=[
                ProjectYearReview(
                    spent=_money(p.spent), request_count=p.request_count, project_id=p.project_id
                )
                for p in r.projects
            ],
        )
        for r in await customer_year_reviews(customer)
    ]
