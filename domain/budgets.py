"""Budgets: what a project or a customer has spent, has committed and may still spend, its
burn per month, a projection to the end of the year, and reviews of past years.

Pure computations over business documents read as :class:`Entry` rows (amounts are net
amounts, exact decimals). Nothing adds up amounts of different currencies: every figure
is given per currency.

* **spent** (invoiced): invoices that are not cancelled (open, paid or overdue), less credit
  notes that are not cancelled, by issue date.
* **committed**: what accepted quotes and confirmed or delivered orders promise beyond what
  is already invoiced. Business documents are not linked to one another (a quote, the order
  that follows it and its invoices carry no reference to each other), so the larger of the
  accepted quotes' and the orders' totals is taken as the commitment (a quote followed by
  its order counts once) and what is spent is taken off it, never below zero.
* **remaining**: the budget less spent and committed, given only where the documents that
  count (from ``since`` on) are in one currency (a budget has no currency of its own).
  Cancelled documents, quotes not accepted and orders not confirmed count nowhere: they
  neither add a currency nor hide a remaining amount, nor make a project worked on in a
  review.
* **burn**: spent per calendar month, for the 12 months ending with the current one (months
  without documents read 0).
* **projection** of what will have been spent at the end of the current year: linear on the
  monthly burn. The rate is the mean burn of the complete months of the burn series, from
  the first month with any spending on (months before a project started do not lower it).
  Expected year-end spent = spent this year so far + what the rate still leaves for the
  current month (the rate less this month's burn, never below zero) + the rate times the
  months left after the current one. The range applies the same formula to the rate less
  and plus the population standard deviation of those monthly burns (the low rate never
  below zero). Without a complete month of spending there is no projection.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from models import BusinessDocumentKind as K
from models import BusinessDocumentStatus as S

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
BURN_MONTHS = 12
"""How many months the burn series covers, the current one included."""

_SPENT_SIGN = {K.INVOICE: 1, K.CREDIT_NOTE: -1}
_ORDER_STATUSES = (S.CONFIRMED, S.DELIVERED)


@dataclass(frozen=True)
class Entry:
    """One business document as budgets read it: ``amount`` is its net amount."""

    kind: K
    status: S
    issue_date: date
    amount: Decimal
    currency: str
    project_id: int | None = None


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class MonthBurn:
    month: date
    """The first day of the month."""
    amount: Decimal


@dataclass(frozen=True)
class Projection:
    """Spent at the end of ``year``: ``expected`` within ``low``..``high``; ``rate`` is the
    mean monthly burn over ``basis_months`` complete months, ``spread`` their population
    standard deviation."""

    year: int
    expected: Decimal
    low: Decimal
    high: Decimal
    rate: Decimal
    spread: Decimal
    basis_months: int


@dataclass(frozen=True)
class CurrencyFigures:
    """The figures of the documents in one currency."""

    currency: str
    spent: Decimal
    committed: Decimal
    remaining: Decimal | None
    spent_this_year: Decimal
    burn: list[MonthBurn]
    projection: Projection | None


@dataclass(frozen=True)
class Overview:
    budget: Decimal | None
    since: date | None
    currencies: list[CurrencyFigures]


@dataclass(frozen=True)
class ProjectYear:
    project_id: int
    spent: list[Money]
    request_count: int


@dataclass(frozen=True)
class YearReview:
    """One past year: ``budget`` is today's budget (budgets keep no history); the projects
    counted are those with an invoice, a credit note or a request that year."""

    year: int
    budget: Decimal | None
    spent: list[Money]
    request_count: int
    project_count: int
    projects: list[ProjectYear] = field(default_factory=list)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def spent_amount(entry: Entry) -> Decimal:
    """What a document adds to spent: an invoice its amount, a credit note less its amount,
    anything cancelled or of another kind nothing."""
    sign = _SPENT_SIGN.get(entry.kind)
    if sign is None or entry.status is S.CANCELLED:
        return ZERO
    return entry.amount * sign


def committed_amount(entries: Iterable[Entry], spent: Decimal) -> Decimal:
    """Accepted quotes and confirmed or delivered orders not yet invoiced (module docstring)."""
    quotes = orders = ZERO
    for entry in entries:
        if entry.kind is K.QUOTE and entry.status is S.ACCEPTED:
            quotes += entry.amount
        elif entry.kind is K.ORDER and entry.status in _ORDER_STATUSES:
            orders += entry.amount
    return _cents(max(ZERO, max(quotes, orders) - spent))


def _month(day: date) -> date:
    return day.replace(day=1)


def _months_back(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def burn(entries: Iterable[Entry], today: date, months: int = BURN_MONTHS) -> list[MonthBurn]:
    """Spent per month for the ``months`` months ending with ``today``'s, oldest first."""
    current = _month(today)
    series = {_months_back(current, back): ZERO for back in range(months - 1, -1, -1)}
    for entry in entries:
        month = _month(entry.issue_date)
        if month in series:
            series[month] += spent_amount(entry)
    return [MonthBurn(month, _cents(amount)) for month, amount in series.items()]


def project(
    series: Sequence[MonthBurn], spent_this_year: Decimal, today: date
) -> Projection | None:
    """The year-end projection of the module docstring from a :func:`burn` series ending
    with ``today``'s month; None without a complete month of spending."""
    complete = list(series[:-1])
    while complete and complete[0].amount == 0:
        complete.pop(0)
    if not complete:
        return None
    burns = [m.amount for m in complete]
    rate = sum(burns, ZERO) / len(burns)
    spread = Decimal(statistics.pstdev(burns))
    this_month = series[-1].amount
    months_left = 12 - today.month

    def at(monthly: Decimal) -> Decimal:
        return _cents(spent_this_year + max(ZERO, monthly - this_month) + monthly * months_left)

    return Projection(
        year=today.year,
        expected=at(rate),
        low=at(max(ZERO, rate - spread)),
        high=at(rate + spread),
        rate=_cents(rate),
        spread=_cents(spread),
        basis_months=len(burns),
    )


def counts(entry: Entry) -> bool:
    """Whether a document counts in any figure: an invoice or a credit note not cancelled,
    an accepted quote, a confirmed or delivered order (drafts, declined or expired quotes and
    anything cancelled count nowhere)."""
    if entry.status is S.CANCELLED:
        return False
    if entry.kind in _SPENT_SIGN:
        return True
    if entry.kind is K.QUOTE:
        return entry.status is S.ACCEPTED
    return entry.kind is K.ORDER and entry.status in _ORDER_STATUSES


def _by_currency(entries: Iterable[Entry]) -> dict[str, list[Entry]]:
    grouped: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        if counts(entry):
            grouped[entry.currency].append(entry)
    return dict(sorted(grouped.items()))


def overview(
    budget: Decimal | None, entries: Iterable[Entry], today: date, since: date | None = None
) -> Overview:
    """The figures of a project's or a customer's documents, per currency (module
    docstring); ``budget`` the project's budget or the customer's annual budget. Spent,
    committed and remaining count the documents issued on or after ``since`` (all when
    None); the burn series and the projection are those of the module docstring."""
    first_month = _months_back(_month(today), BURN_MONTHS - 1)
    grouped = {
        currency: rows
        for currency, rows in _by_currency(entries).items()
        if since is None or any(e.issue_date >= min(since, first_month) for e in rows)
    }
    # a remaining amount only where what counts since ``since`` is in one currency
    counted_currencies = {
        currency
        for currency, rows in grouped.items()
        if any(since is None or e.issue_date >= since for e in rows)
    }
    figures = []
    for currency, rows in grouped.items():
        counted = [e for e in rows if since is None or e.issue_date >= since]
        spent = _cents(sum((spent_amount(e) for e in counted), ZERO))
        committed = committed_amount(counted, spent)
        this_year = _cents(
            sum((spent_amount(e) for e in rows if e.issue_date.year == today.year), ZERO)
        )
        series = burn(rows, today)
        remaining = (
            _cents(budget - spent - committed)
            if budget is not None and counted_currencies <= {currency}
            else None
        )
        figures.append(
            CurrencyFigures(
                currency=currency,
                spent=spent,
                committed=committed,
                remaining=remaining,
                spent_this_year=this_year,
                burn=series,
                projection=project(series, this_year, today),
            )
        )
    return Overview(budget=budget, since=since, currencies=figures)


def _money(amounts: Mapping[str, Decimal]) -> list[Money]:
    return [Money(_cents(amount), currency) for currency, amount in sorted(amounts.items())]


def year_reviews(
    annual_budget: Decimal | None,
    entries: Iterable[Entry],
    request_projects: Iterable[tuple[int, int | None]],
    today: date,
) -> list[YearReview]:
    """A review of each past year (before ``today``'s) with spending or requests, newest
    first: spent per currency, requests submitted (``request_projects``: each request's
    year and project), projects worked on, and the same per project (by project ID)."""
    spent: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    project_spent: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(
        lambda: defaultdict(lambda: ZERO)
    )
    requests: dict[int, int] = defaultdict(int)
    project_requests: dict[tuple[int, int], int] = defaultdict(int)
    for entry in entries:
        year = entry.issue_date.year
        if year >= today.year or entry.kind not in _SPENT_SIGN or not counts(entry):
            continue
        spent[year][entry.currency] += spent_amount(entry)
        if entry.project_id is not None:
            project_spent[(year, entry.project_id)][entry.currency] += spent_amount(entry)
    for year, project_id in request_projects:
        if year >= today.year:
            continue
        requests[year] += 1
        if project_id is not None:
            project_requests[(year, project_id)] += 1
    reviews = []
    for year in sorted(spent.keys() | requests.keys(), reverse=True):
        keys = sorted(k for k in project_spent.keys() | project_requests.keys() if k[0] == year)
        projects = [
            ProjectYear(
                project_id=project_id,
                spent=_money(project_spent.get((year, project_id), {})),
                request_count=project_requests.get((year, project_id), 0),
            )
            for _, project_id in keys
        ]
        reviews.append(
            YearReview(
                year=year,
                budget=annual_budget,
                spent=_money(spent.get(year, {})),
                request_count=requests.get(year, 0),
                project_count=len(projects),
                projects=projects,
            )
        )
    return reviews
