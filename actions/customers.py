"""Customers and their account teams."""

from __future__ import annotations

import re
from decimal import Decimal

from slugify import slugify as transliterated_slug

from actions._common import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    audit,
    limited_text,
    name_text,
)
from actions.unit_of_work import unit_of_work
from domain.errors import BadUserInput, Conflict, NotFound
from models import AccountTeamMembership, Customer, User

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def slugify(name: str) -> str:
    """A customer's URL name made from its display name: transliterated to ASCII from any
    script ("Müller Logistik GmbH" -> ``muller-logistik-gmbh``, "Straße" -> ``strasse``),
    lower case, words joined by single hyphens, at most 64 characters (cut at a word where
    possible); ``customer`` when nothing of the name is left."""
    slug = transliterated_slug(name, max_length=64, word_boundary=True)
    return slug or "customer"


def check_money(value: Decimal | None, field: str) -> Decimal | None:
    """``value`` rounded to cents (half to even), as stored: between 0 and
    999,999,999,999.99 after rounding (so ``999999999999.995`` is refused rather than
    stored as a 13-digit amount), ``-0`` as ``0.00``; BAD_USER_INPUT on ``field``
    otherwise."""
    if value is None:
        return None
    limit = Decimal("1e12")
    if value.is_finite() and -limit < value < limit:
        cents = value.quantize(Decimal("0.01")) + Decimal("0.00")  # -0.00 + 0.00 is 0.00
        if 0 <= cents < limit:
            return cents
    raise BadUserInput(f"{field} must be between 0 and 999,999,999,999.99.", field=field)


async def create_customer(
    actor: User | None,
    *,
    name: str,
    slug: str | None = None,
    internal_notes: str = "",
    annual_budget: Decimal | None = None,
    account_team_ids: list[int] | None = None,
) -> Customer:
    """Create a customer (the caller has been checked to be an administrator)."""
    name = name_text(name, "name", NAME_MAX_LENGTH)
    slug = (slug or slugify(name)).strip().lower()
    if not _SLUG.match(slug):
        raise BadUserInput(
            "slug may hold lower-case letters, digits and inner hyphens (at most 64).",
            field="slug",
        )
    internal_notes = limited_text(internal_notes, "internalNotes", DESCRIPTION_MAX_LENGTH)
    annual_budget = check_money(annual_budget, "annualBudget")
    team_ids = sorted(set(account_team_ids or []))
    team = await User.filter(id__in=team_ids, role__in=["ADMIN", "STAFF"], is_active=True)
    if len(team) != len(team_ids):
        raise NotFound("staff user")
    if await Customer.exists(slug=slug):
        raise Conflict(f"A customer with the slug {slug!r} already exists.", field="slug")
    async with unit_of_work():
        customer = await Customer.create(
            name=name, slug=slug, internal_notes=internal_notes, annual_budget=annual_budget
        )
        for member in team:
            await AccountTeamMembership.create(customer_id=customer.id, user_id=member.id)
        await audit(
            "customer.created",
            actor=actor,
            target=f"customer:{customer.id}",
            account_team=team_ids,
        )
    return customer
