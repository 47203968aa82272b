"""Budgets: a project's and a customer's spent, committed and remaining amounts per
currency, the monthly burn and its year-end projection, and reviews of past years; seen
by staff and the customer's lead contact, refused to members and other customers."""

from __future__ import annotations

import statistics
from datetime import date
from decimal import Decimal

from actions import business_documents
from actions._common import now
from actions.business_documents import DocumentFields
from domain.budgets import Entry, burn, overview
from models import BusinessDocumentKind as K
from models import BusinessDocumentStatus as S
from models import ServiceRequest
from realtime.bus import EventBus
from tests.conftest import Api, gid
from tests.world import World

FIGURES = """
fragment Figures on BudgetOverview {
  budget since
  currencies {
    currency spent committed remaining spentThisYear
    burn { month amount }
    projection { year expected low high rate spread basisMonths }
  }
}
"""
PROJECT = (
    """
query ProjectBudget($id: ID!) { project(id: $id) { budgetOverview { ...Figures } } }
"""
    + FIGURES
)
CUSTOMER = (
    """
query CustomerBudget($id: ID!) {
  customer(id: $id) {
    budgetOverview { ...Figures }
    yearReviews {
      year budget spent { amount currency } requestCount projectCount
      projects { project { name } budget spent { amount currency } requestCount }
    }
  }
}
"""
    + FIGURES
)
TODAY = now().date()


def months_ago(count: int, day: int = 10) -> date:
    index = TODAY.year * 12 + TODAY.month - 1 - count
    return date(index // 12, index % 12 + 1, day)


async def _document(
    world: World,
    bus: EventBus,
    kind: K,
    status: S,
    amount: str,
    issued: date,
    project: int | None = None,
    currency: str = "EUR",
) -> None:
    number = f"{kind.value[:3]}-{amount}-{issued.isoformat()}-{currency}"
    document = await business_documents.create_business_document(
        world.sam,
        bus,
        customer_id=world.acme.id,
        fields=DocumentFields(
            kind=kind,
            number=number,
            title=number,
            issue_date=issued,
            due_date=None,
            net_amount=Decimal(amount),
            gross_amount=Decimal(amount) * Decimal("1.2"),
            currency=currency,
            status=status,
            project_id=project or world.portal.id,
        ),
    )
    assert document.status is status


async def _acme_books(world: World, bus: EventBus) -> None:
    """Three complete months of portal invoices (1000, 3000, 2000 less a 500 credit note),
    400 this month, a cancelled invoice, an accepted quote (20000) and its confirmed order
    (6000), a declined quote; a USD invoice of the pilot this month; and, two years ago,
    10000 on the portal, 2500 on the pilot and one request about the portal."""
    for kind, status, amount, issued in [
        (K.INVOICE, S.PAID, "1000.00", months_ago(3)),
        (K.INVOICE, S.OPEN, "3000.00", months_ago(2)),
        (K.INVOICE, S.CANCELLED, "9999.00", months_ago(2, day=11)),
        (K.INVOICE, S.PAID, "2000.00", months_ago(1)),
        (K.CREDIT_NOTE, S.ISSUED, "500.00", months_ago(1, day=12)),
        (K.INVOICE, S.OPEN, "400.00", TODAY),
        (K.QUOTE, S.ACCEPTED, "20000.00", TODAY),
        (K.ORDER, S.CONFIRMED, "6000.00", TODAY),
        (K.QUOTE, S.DECLINED, "50000.00", TODAY),
        (K.INVOICE, S.PAID, "10000.00", date(TODAY.year - 2, 3, 1)),
    ]:
        await _document(world, bus, kind, status, amount, issued)
    await _document(world, bus, K.INVOICE, S.PAID, "700.00", TODAY, world.pilot.id, "USD")
    await _document(
        world, bus, K.INVOICE, S.PAID, "2500.00", date(TODAY.year - 2, 6, 1), world.pilot.id
    )
    old = now().replace(year=TODAY.year - 2, month=5, day=4)
    await ServiceRequest.filter(id=world.acme_request.id).update(
        created_at=old, project_id=world.portal.id
    )


def _spent_this_year() -> Decimal:
    """The portal's monthly burns of :func:`_acme_books` that fall in this year."""
    burns = ((3, 1000), (2, 3000), (1, 1500), (0, 400))
    return sum((Decimal(a) for n, a in burns if months_ago(n).year == TODAY.year), Decimal(0))


def _expected_projection(
    this_year: Decimal, burns: list[Decimal], this_month: Decimal
) -> dict[str, str]:
    """Linear on the monthly burn, as the README states it, written out by hand."""
    rate = sum(burns, Decimal(0)) / len(burns)
    spread = Decimal(statistics.pstdev(burns))
    left = 12 - TODAY.month

    def at(monthly: Decimal) -> str:
        return str(
            (this_year + max(Decimal(0), monthly - this_month) + monthly * left).quantize(
                Decimal("0.01")
            )
        )

    return {
        "expected": at(rate),
        "low": at(max(Decimal(0), rate - spread)),
        "high": at(rate + spread),
        "rate": str(rate.quantize(Decimal("0.01"))),
    }


async def test_a_project_shows_spent_committed_remaining_burn_and_projection(
    api: Api, world: World, bus: EventBus
) -> None:
    # given
    await _acme_books(world, bus)
    # when
    result = await api(PROJECT, {"id": gid(world.portal)}, as_user=world.sam)
    # then
    assert result.errors == [], result.errors
    figures = result.data["project"]["budgetOverview"]
    assert figures["budget"] == "120000.00"
    assert figures["since"] is None  # a project's budget covers its whole life
    [eur] = figures["currencies"]
    # 1000 + 3000 + 2000 - 500 + 400 + 10000 two years ago; the cancelled one counts nothing
    assert eur["spent"] == "15900.00"
    # the larger of accepted quotes (20000) and orders (6000), less what is invoiced
    assert eur["committed"] == "4100.00"
    assert eur["remaining"] == "100000.00"  # 120000 - 15900 - 4100
    burns = {m["month"]: m["amount"] for m in eur["burn"]}
    assert len(eur["burn"]) == 12
    assert [burns[months_ago(n, 1).isoformat()] for n in (3, 2, 1, 0)] == [
        "1000.00",
        "3000.00",
        "1500.00",
        "400.00",
    ]
    assert burns[months_ago(4, 1).isoformat()] == "0.00"
    this_year = _spent_this_year()
    assert eur["spentThisYear"] == str(this_year.quantize(Decimal("0.01")))
    projection = eur["projection"]
    expected = _expected_projection(
        this_year, [Decimal(1000), Decimal(3000), Decimal(1500)], Decimal(400)
    )
    assert {k: projection[k] for k in expected} == expected
    assert projection["basisMonths"] == 3
    assert projection["year"] == TODAY.year
    assert (
        Decimal(projection["low"]) <= Decimal(projection["expected"]) <= Decimal(projection["high"])
    )


async def test_a_customer_counts_the_year_per_currency_and_reviews_past_years(
    api: Api, world: World, bus: EventBus
) -> None:
    # given
    await _acme_books(world, bus)
    # when
    result = await api(CUSTOMER, {"id": gid(world.acme)}, as_user=world.anna)
    # then
    assert result.errors == [], result.errors
    customer = result.data["customer"]
    figures = customer["budgetOverview"]
    assert figures["budget"] == "480000.00"
    assert figures["since"] == date(TODAY.year, 1, 1).isoformat()
    eur, usd = figures["currencies"]
    this_year = _spent_this_year()
    assert eur["currency"] == "EUR"
    assert eur["spent"] == str(this_year.quantize(Decimal("0.01")))
    assert eur["committed"] == str(max(Decimal(0), 20000 - this_year).quantize(Decimal("0.01")))
    # amounts in two currencies are never added up: no remaining amount in either
    assert (usd["currency"], usd["spent"], usd["remaining"]) == ("USD", "700.00", None)
    assert eur["remaining"] is None
    assert usd["projection"] is None  # no complete month of spending yet
    # the year before last: 12500 spent, one request, two projects
    [review] = [r for r in customer["yearReviews"] if r["year"] == TODAY.year - 2]
    assert review == {
        "year": TODAY.year - 2,
        "budget": "480000.00",
        "spent": [{"amount": "12500.00", "currency": "EUR"}],
        "requestCount": 1,
        "projectCount": 2,
        "projects": [
            {
                "project": {"name": "Acme warehouse portal"},
                "budget": "120000.00",
                "spent": [{"amount": "10000.00", "currency": "EUR"}],
                "requestCount": 1,
            },
            {
                "project": {"name": "Acme fleet pilot"},
                "budget": None,
                "spent": [{"amount": "2500.00", "currency": "EUR"}],
                "requestCount": 0,
            },
        ],
    }
    assert all(r["year"] < TODAY.year for r in customer["yearReviews"])
    # staff read the very same figures
    staff = await api(CUSTOMER, {"id": gid(world.acme)}, as_user=world.stan)
    assert staff.data["customer"] == customer


async def test_members_and_other_customers_see_no_budget(
    api: Api, world: World, bus: EventBus
) -> None:
    # given
    await _acme_books(world, bus)
    # when a member of the portal project asks
    project = await api(PROJECT, {"id": gid(world.portal)}, as_user=world.max)
    customer = await api(CUSTOMER, {"id": gid(world.acme)}, as_user=world.max)
    # then the project and customer are there, their budgets null with FORBIDDEN
    assert project.data["project"] == {"budgetOverview": None}
    assert project.codes == ["FORBIDDEN"]
    assert customer.data["customer"] == {"budgetOverview": None, "yearReviews": None}
    assert customer.codes == ["FORBIDDEN", "FORBIDDEN"]
    # when another customer's lead contact asks: as for IDs that do not exist
    foreign = await api(CUSTOMER, {"id": gid(world.acme)}, as_user=world.gina)
    assert foreign.data["customer"] is None
    assert foreign.codes == ["NOT_FOUND"]
    foreign_project = await api(PROJECT, {"id": gid(world.portal)}, as_user=world.gina)
    assert foreign_project.codes == ["NOT_FOUND"]
    # and their own customer's figures hold none of Acme's documents
    own = await api(CUSTOMER, {"id": gid(world.globex)}, as_user=world.gina)
    assert own.errors == [], own.errors
    assert own.data["customer"]["budgetOverview"] == {
        "budget": "150000.00",
        "since": date(TODAY.year, 1, 1).isoformat(),
        "currencies": [],
    }
    assert own.data["customer"]["yearReviews"] == []


def test_the_projection_is_linear_on_the_monthly_burn_with_its_spread_as_range() -> None:
    # given: a project that began in March, 2000, 4000, 3000 then 1000 by mid-June
    today = date(2025, 6, 15)
    entries = [
        Entry(K.INVOICE, S.PAID, date(2025, 3, 5), Decimal("2000"), "EUR"),
        Entry(K.INVOICE, S.PAID, date(2025, 4, 5), Decimal("4000"), "EUR"),
        Entry(K.INVOICE, S.OPEN, date(2025, 5, 5), Decimal("3000"), "EUR"),
        Entry(K.INVOICE, S.OPEN, date(2025, 6, 2), Decimal("1000"), "EUR"),
    ]
    # when
    [figures] = overview(Decimal("30000"), entries, today).currencies
    # then: rate 3000 a month over March to May (the empty months before are not counted),
    # spread 816.50; 10000 spent + 2000 more in June + 6 months at the rate
    projection = figures.projection
    assert projection is not None
    assert (projection.rate, projection.spread, projection.basis_months) == (
        Decimal("3000.00"),
        Decimal("816.50"),
        3,
    )
    assert projection.expected == Decimal("30000.00")
    assert projection.low == Decimal("24284.52")  # 10000 + 1183.50 + 6 x 2183.50 (rate - spread)
    assert projection.high == Decimal("35715.48")  # 10000 + 2816.50 + 6 x 3816.50 (rate + spread)
    assert figures.remaining == Decimal("20000.00")
    assert [m.amount for m in burn(entries, today)][-4:] == [
        Decimal("2000.00"),
        Decimal("4000.00"),
        Decimal("3000.00"),
        Decimal("1000.00"),
    ]
