"""Reading budgets: a project's or a customer's business documents and requests, as
:mod:`domain.budgets` computes figures from them. Who may read them is the caller's rule
(:func:`domain.policy.can_see_budget`); these functions read whatever they are given."""

from __future__ import annotations

from datetime import date

from actions.business_documents import today
from domain.budgets import Entry, Overview, YearReview, overview, year_reviews
from models import (
    BusinessDocument,
    BusinessDocumentKind,
    BusinessDocumentStatus,
    Customer,
    Project,
    ServiceRequest,
)

_KINDS = list(BusinessDocumentKind)
_FIELDS = ("kind", "status", "issue_date", "net_amount", "currency", "project_id")


async def _entries(**where: int) -> list[Entry]:
    rows = await BusinessDocument.filter(kind__in=_KINDS, **where).values_list(*_FIELDS)
    return [
        Entry(
            kind=BusinessDocumentKind(kind),
            status=BusinessDocumentStatus(status),
            issue_date=issued,
            amount=amount,
            currency=currency,
            project_id=project_id,
        )
        for kind, status, issued, amount, currency, project_id in rows
    ]


async def project_budget(project: Project, on: date | None = None) -> Overview:
    """The project's budget overview as of ``on`` (today, UTC)."""
    entries = await _entries(project_id=project.id)
    return overview(project.budget, entries, on or today())


async def customer_budget(customer: Customer, on: date | None = None) -> Overview:
    """The customer's budget overview as of ``on`` (today, UTC): its annual budget against
    the documents of the year (of its projects or of none)."""
    day = on or today()
    entries = await _entries(customer_id=customer.id)
    return overview(customer.annual_budget, entries, day, since=date(day.year, 1, 1))


async def customer_year_reviews(customer: Customer, on: date | None = None) -> list[YearReview]:
    """A review of each past year of the customer, newest first."""
    entries = await _entries(customer_id=customer.id)
    requests = await ServiceRequest.filter(customer_id=customer.id).values_list(
        "created_at", "project_id"
    )
    submitted = [(created.year, project_id) for created, project_id in requests]
    return year_reviews(customer.annual_budget, entries, submitted, on or today())
