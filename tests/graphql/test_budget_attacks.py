"""Budgets attacked with documents that count for nothing (cancelled, declined, not yet
accepted) and with documents in another currency outside the counted days: none adds a
currency, hides the remaining amount or makes a past year's project worked on; amounts of
different currencies are never added up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.budgets import Entry, overview, year_reviews
from models import BusinessDocumentKind as K
from models import BusinessDocumentStatus as S
from models import User
from realtime.bus import EventBus
from tests.conftest import Api, gid
from tests.graphql.test_budgets import CUSTOMER, TODAY, _document, months_ago
from tests.world import World

TODAY_IN_MARCH = date(2026, 3, 15)


def _entry(kind: K, status: S, amount: str, issued: date, currency: str = "EUR") -> Entry:
    return Entry(kind, status, issued, Decimal(amount), currency, project_id=7)


def test_documents_that_count_for_nothing_neither_add_a_currency_nor_hide_the_remaining() -> None:
    # given EUR spending this year, and in USD only what counts nowhere
    entries = [
        _entry(K.INVOICE, S.PAID, "1000.00", date(2026, 2, 10)),
        _entry(K.INVOICE, S.CANCELLED, "500.00", date(2026, 2, 11), "USD"),
        _entry(K.QUOTE, S.DECLINED, "9000.00", date(2026, 2, 12), "USD"),
        _entry(K.QUOTE, S.SENT, "8000.00", date(2026, 3, 1), "USD"),
        _entry(K.ORDER, S.CANCELLED, "7000.00", date(2026, 3, 2), "USD"),
    ]
    # when
    project = overview(Decimal("5000.00"), entries, TODAY_IN_MARCH)
    customer = overview(Decimal("5000.00"), entries, TODAY_IN_MARCH, since=date(2026, 1, 1))
    # then
    for figures in (project, customer):
        [eur] = figures.currencies
        assert (eur.currency, eur.spent, eur.committed) == ("EUR", Decimal("1000.00"), Decimal(0))
        assert eur.remaining == Decimal("4000.00")


def test_a_customers_year_in_one_currency_keeps_its_remaining_beside_older_ones() -> None:
    # given EUR this year; USD last December (in the burn) and three years ago
    entries = [
        _entry(K.INVOICE, S.PAID, "1000.00", date(2026, 2, 10)),
        _entry(K.INVOICE, S.PAID, "700.00", date(2025, 12, 10), "USD"),
        _entry(K.INVOICE, S.PAID, "300.00", date(2023, 5, 10), "CHF"),
    ]
    # when
    customer = overview(Decimal("5000.00"), entries, TODAY_IN_MARCH, since=date(2026, 1, 1))
    project = overview(Decimal("5000.00"), entries, TODAY_IN_MARCH)
    # then the customer's year is in EUR alone: its remaining is given, USD shows its burn
    eur, usd = customer.currencies
    assert (eur.currency, eur.remaining) == ("EUR", Decimal("4000.00"))
    assert (usd.currency, usd.spent, usd.remaining) == ("USD", Decimal(0), None)
    assert [m.amount for m in usd.burn if m.amount] == [Decimal("700.00")]
    # a project counts its whole life: three currencies, no sum, no remaining
    assert [(c.currency, c.spent, c.remaining) for c in project.currencies] == [
        ("CHF", Decimal("300.00"), None),
        ("EUR", Decimal("1000.00"), None),
        ("USD", Decimal("700.00"), None),
    ]


def test_a_cancelled_invoice_makes_no_year_and_no_project_worked_on() -> None:
    # given a past year with a cancelled invoice only, another with a paid one and a request
    entries = [
        _entry(K.INVOICE, S.CANCELLED, "900.00", date(2024, 6, 1)),
        _entry(K.INVOICE, S.PAID, "100.00", date(2025, 6, 1)),
        _entry(K.CREDIT_NOTE, S.CANCELLED, "50.00", date(2025, 7, 1)),
    ]
    # when
    reviews = year_reviews(None, entries, [(2024, None)], TODAY_IN_MARCH)
    # then 2024 had a request but no project worked on; 2025 spent 100
    assert [(r.year, r.project_count, r.request_count) for r in reviews] == [
        (2025, 1, 0),
        (2024, 0, 1),
    ]
    assert [(m.amount, m.currency) for m in reviews[0].spent] == [(Decimal("100.00"), "EUR")]
    assert reviews[1].spent == []


async def test_a_lead_contact_reads_the_remaining_amount_despite_a_cancelled_dollar_invoice(
    api: Api, world: World, bus: EventBus
) -> None:
    # given this year's EUR invoice and a cancelled USD one
    issued = months_ago(0, day=1)
    await _document(world, bus, K.INVOICE, S.OPEN, "1000.00", issued)
    await _document(world, bus, K.INVOICE, S.CANCELLED, "400.00", issued, currency="USD")
    # when
    answers: dict[str, User] = {"lead": world.anna, "staff": world.sam, "member": world.max}
    results = {
        name: await api(CUSTOMER, {"id": gid(world.acme)}, as_user=who)
        for name, who in answers.items()
    }
    # then one currency, with its remaining amount, the same for staff and the lead contact
    lead = results["lead"]
    assert lead.errors == [], lead.errors
    [eur] = lead.data["customer"]["budgetOverview"]["currencies"]
    assert (eur["currency"], eur["spent"], eur["remaining"]) == ("EUR", "1000.00", "479000.00")
    assert results["staff"].data == lead.data
    assert results["member"].data["customer"] == {"budgetOverview": None, "yearReviews": None}
    assert results["member"].codes == ["FORBIDDEN", "FORBIDDEN"]
    assert TODAY.year == issued.year
