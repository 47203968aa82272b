"""``kpis(customerId, period)``: the figures of a customer (or of all), explained."""

from __future__ import annotations

import strawberry

from actions._common import now
from domain import kpis, policy
from domain.errors import Forbidden
from graphql_schema.context import Info
from graphql_schema.kpis.data import gather
from graphql_schema.kpis.types import (
    KpiPeriod,
    KpiPeriodInput,
    Kpis,
    _Computed,
)
from graphql_schema.permissions import CanSeeKpis, rule
from graphql_schema.relay import fetch_by_global_id
from models import Customer, User

DEFAULT_PRESET = kpis.Preset.LAST_30_DAYS


async def kpis_for(
    viewer: User, customer_id: strawberry.ID | str | None, period: KpiPeriodInput | None
) -> Kpis:
    """The KPIs ``viewer`` asks for: NOT_FOUND for a customer out of their sight, FORBIDDEN
    unless :func:`domain.policy.can_see_kpis`, BAD_USER_INPUT for a malformed period."""
    customer: Customer | None = None
    if customer_id is not None:
        customer = await fetch_by_global_id(
            policy.visible_customers(viewer), customer_id, "Customer"
        )
    if not policy.can_see_kpis(viewer, customer.id if customer else None):
        raise Forbidden(
            "Only staff and a customer's lead contacts may read the KPIs; a lead contact "
            "names their own customer."
        )
    moment = now()
    asked = period or KpiPeriodInput(preset=DEFAULT_PRESET)
    chosen = asked.period(moment.date())
    facts = await gather(
        customer.id if customer else None,
        chosen,
        now=moment,
        show_terms=kpis.can_see_search_terms(viewer),
    )
    computed = _Computed(facts=facts, period=chosen, previous=chosen.previous())
    return Kpis(
        period=KpiPeriod.of(chosen),
        previous_period=KpiPeriod.of(computed.previous),
        customer_row=customer,
        computed=computed,
    )


@strawberry.type
class Query:
    @strawberry.field(
        extensions=rule(CanSeeKpis),
        description=(
            "The KPIs of a customer (`customerId`; staff may leave it out for all customers "
            "together) over `period` (default: the last 30 days) and the period of the same "
            "length before it. Every figure carries its definition, a series by day or week "
            "and the records it was computed from; each table is also a CSV at "
            "`GET /kpis/<key>.csv?customerId=…&from=…&to=…` (or `&preset=…`) with the same "
            "bearer token. Staff: any customer; a lead contact: their own (another's ID is "
            "NOT_FOUND); others FORBIDDEN."
        ),
    )
    async def kpis(
        self,
        info: Info,
        customer_id: strawberry.ID | None = None,
        period: KpiPeriodInput | None = None,
    ) -> Kpis | None:
        return await kpis_for(info.context.require_viewer(), customer_id, period)
