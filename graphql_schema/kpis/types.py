"""The KPIs as the API shows them: each figure with its definition, the previous period's
value, a time series and the records it was computed from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

import strawberry

from domain import cursors, kpis, policy
from domain import library as library_rules
from domain.errors import BadUserInput
from graphql_schema.context import Info
from graphql_schema.customers.types import Customer
from graphql_schema.library.types import LibraryDocument
from graphql_schema.pages.types import Page
from graphql_schema.relay import (
    DEFAULT_PAGE_SIZE,
    MAX_ROW_ID,
    Connection,
    Edge,
    PageInfo,
    check_page_size,
)
from graphql_schema.requests.types import Request
from models import Customer as CustomerRow
from models import User as UserRow

KpiUnit = strawberry.enum(
    kpis.Unit,
    name="KpiUnit",
    description=(
        "COUNT: a number of things. BUSINESS_HOURS: hours of the business calendar. "
        "PERCENT: a share from 0 to 100."
    ),
)
KpiInterval = strawberry.enum(
    kpis.Interval, name="KpiInterval", description="DAY: each UTC day. WEEK: Monday to Sunday."
)
KpiPeriodPreset = strawberry.enum(
    kpis.Preset,
    name="KpiPeriodPreset",
    description=(
        "LAST_N_DAYS: the N UTC days ending today (included). THIS_MONTH: from the 1st to "
        "today. LAST_MONTH: the whole previous month."
    ),
)


@strawberry.input(
    description=(
        "The days the figures cover (UTC, both ends included): `from` and `to`, or a "
        "`preset`; at most 731 days."
    )
)
class KpiPeriodInput:
    from_: date | None = strawberry.field(default=None, name="from")
    to: date | None = None
    preset: KpiPeriodPreset | None = None  # type: ignore[valid-type]

    def period(self, today: date) -> kpis.Period:
        """The period asked for as of ``today`` (UTC); BAD_USER_INPUT (field ``period``)
        unless it is either a preset or both dates of :meth:`domain.kpis.Period.checked`."""
        if self.preset is not None:
            if self.from_ is not None or self.to is not None:
                raise BadUserInput("Give either a `preset` or `from` and `to`.", field="period")
            return kpis.Period.preset(self.preset, today)
        if self.from_ is None or self.to is None:
            raise BadUserInput("Give both `from` and `to`, or a `preset`.", field="period")
        return kpis.Period.checked(self.from_, self.to, today)


@strawberry.type(description="Days the figures cover (UTC, both ends included).")
class KpiPeriod:
    from_: date = strawberry.field(name="from")
    to: date
    days: int

    @classmethod
    def of(cls, period: kpis.Period) -> KpiPeriod:
        return cls(from_=period.start, to=period.end, days=period.days)


@strawberry.type(description="A figure over one day or week.")
class KpiPoint:
    start: date = strawberry.field(description="The first day of the day or week.")
    value: float | None = strawberry.field(
        description="The figure over that day or week; null where there is nothing to compute "
        "a time or a share from (counts are 0)."
    )


KpiRecordItem = Annotated[
    Request | Page | LibraryDocument,
    strawberry.union("KpiRecordItem", description="An object a figure was computed from."),
]


@strawberry.type(description="One thing a figure was computed from, and what it contributed.")
class KpiRecord:
    kind: str = strawberry.field(
        description="Request, Page or LibraryDocument (see `node`), Day (`label` is the date) "
        "or Terms (`label` is what was searched, shown to staff only)."
    )
    label: str = strawberry.field(
        description="The request's number, the page's or document's title, the date or the "
        "terms; empty for an object you may not see."
    )
    contribution: float = strawberry.field(
        description="Its part of the figure: business hours for a time, 1 or 0 for a share "
        "(counted in or not), a count otherwise."
    )
    out_of: float | None = strawberry.field(
        description="For a share made of groups (sessions per day): out of how many."
    )
    node: KpiRecordItem | None = strawberry.field(
        description="The request, page or document, if you may see it."
    )


@dataclass
class _Computed:
    """The facts of one ``kpis`` answer, shared by its figures."""

    facts: kpis.Facts
    period: kpis.Period
    previous: kpis.Period


async def record_nodes(
    viewer: UserRow, records: tuple[kpis.Record, ...]
) -> list[tuple[kpis.Record, str, Request | Page | LibraryDocument | None]]:
    """Each record with its label and object, the object (and an object's label) only where
    ``viewer`` may see it."""
    wanted: dict[str, set[int]] = {}
    for record in records:
        if record.object_id is not None:
            wanted.setdefault(record.kind, set()).add(record.object_id)
    nodes: dict[tuple[str, int], tuple[str, Request | Page | LibraryDocument]] = {}
    if ids := wanted.get("Request"):
        for request in await policy.visible_requests(viewer).filter(id__in=ids):
            nodes[("Request", request.id)] = (request.reference, Request.from_row(request))
    if ids := wanted.get("Page"):
        for page in await policy.visible_pages(viewer).filter(id__in=ids):
            nodes[("Page", page.id)] = (page.title, Page.from_row(page))
    if ids := wanted.get("LibraryDocument"):
        for document in await library_rules.visible_documents(viewer).filter(id__in=ids):
            nodes[("LibraryDocument", document.id)] = (
                document.title,
                LibraryDocument.from_row(document),
            )
    found: list[tuple[kpis.Record, str, Request | Page | LibraryDocument | None]] = []
    for record in records:
        if record.object_id is None:
            found.append((record, record.label, None))
            continue
        label, node = nodes.get((record.kind, record.object_id), ("", None))
        found.append((record, label, node))
    return found


@strawberry.type(description="A figure, explained: its definition, value and records.")
class KpiFigure:
    key: str = strawberry.field(description="Its name, as in `kpis` and in its CSV's path.")
    title: str
    definition: str = strawberry.field(description="What exactly is counted, in words.")
    unit: KpiUnit  # type: ignore[valid-type]
    value: float | None = strawberry.field(
        description="Over the period; null where there is nothing to compute it from."
    )
    previous_value: float | None = strawberry.field(
        description="Over the previous period of the same length."
    )
    kpi: strawberry.Private[kpis.Kpi]
    computed: strawberry.Private[_Computed]

    @classmethod
    def of(cls, kpi: kpis.Kpi, computed: _Computed) -> KpiFigure:
        return cls(
            key=kpi.key,
            title=kpi.title,
            definition=kpi.definition,
            unit=kpi.unit,
            value=kpi.measure(computed.facts, computed.period).value,
            previous_value=kpi.measure(computed.facts, computed.previous).value,
            kpi=kpi,
            computed=computed,
        )

    @strawberry.field(
        description="The figure for each day or week of the period, empty ones included."
    )
    def series(self, interval: KpiInterval = kpis.Interval.DAY) -> list[KpiPoint]:  # type: ignore[valid-type]
        points = self.kpi.series(self.computed.facts, self.computed.period, interval)
        return [KpiPoint(start=start, value=value) for start, value in points]

    @strawberry.field(
        description="The records the value was computed from, each with its contribution "
        "(requests in the order of their contribution, pages and documents most read first)."
    )
    async def records(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        previous: bool = False,
    ) -> Connection[KpiRecord]:
        check_page_size(first)
        period = self.computed.previous if previous else self.computed.period
        everything = self.kpi.measure(self.computed.facts, period).records
        offset = 0
        if after is not None:
            position = cursors.decode("kpi-record", after, lowest=1, highest=MAX_ROW_ID)
            if position is None:
                raise BadUserInput(
                    "`after` must be a cursor taken from this list's edges or pageInfo.",
                    field="after",
                )
            offset = position
        page = everything[offset : offset + first]
        edges = [
            Edge(
                cursor=cursors.encode("kpi-record", offset + index + 1),
                node=KpiRecord(
                    kind=record.kind,
                    label=label,
                    contribution=record.contribution,
                    out_of=record.out_of,
                    node=node,
                ),
            )
            for index, (record, label, node) in enumerate(
                await record_nodes(info.context.require_viewer(), page)
            )
        ]

        async def count() -> int:
            return len(everything)

        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=offset + first < len(everything),
                has_previous_page=offset > 0,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            _count=count,
        )


@strawberry.type(
    description=(
        "The figures of a customer (or of all customers) over a period and the one before "
        "it. Computed from the same records whoever asks: the provider and the customer's "
        "lead contacts see identical figures."
    )
)
class Kpis:
    period: KpiPeriod
    previous_period: KpiPeriod = strawberry.field(
        description="The days of the same length just before the period."
    )
    customer_row: strawberry.Private[CustomerRow | None]
    computed: strawberry.Private[_Computed]

    @strawberry.field(description="The customer; null for all customers together.")
    def customer(self) -> Customer | None:
        return Customer.from_row(self.customer_row) if self.customer_row else None

    @strawberry.field(description="Every figure, in the order of the fields below.")
    def figures(self) -> list[KpiFigure]:
        return [KpiFigure.of(kpi, self.computed) for kpi in kpis.KPIS.values()]

    def _figure(self, key: str) -> KpiFigure:
        return KpiFigure.of(kpis.KPIS[key], self.computed)

    @strawberry.field
    def submitted(self) -> KpiFigure:
        return self._figure("submitted")

    @strawberry.field
    def resolved(self) -> KpiFigure:
        return self._figure("resolved")

    @strawberry.field
    def first_response_median(self) -> KpiFigure:
        return self._figure("firstResponseMedian")

    @strawberry.field
    def first_response_p90(self) -> KpiFigure:
        return self._figure("firstResponseP90")

    @strawberry.field
    def resolution_median(self) -> KpiFigure:
        return self._figure("resolutionMedian")

    @strawberry.field
    def resolution_p90(self) -> KpiFigure:
        return self._figure("resolutionP90")

    @strawberry.field
    def sla_compliance(self) -> KpiFigure:
        return self._figure("slaCompliance")

    @strawberry.field
    def complete_on_submission(self) -> KpiFigure:
        return self._figure("completeOnSubmission")

    @strawberry.field
    def active_contacts_weekly(self) -> KpiFigure:
        return self._figure("activeContactsWeekly")

    @strawberry.field
    def active_contacts_monthly(self) -> KpiFigure:
        return self._figure("activeContactsMonthly")

    @strawberry.field
    def self_service_rate(self) -> KpiFigure:
        return self._figure("selfServiceRate")

    @strawberry.field(description="Pages and documents read; the most read first in records.")
    def reads(self) -> KpiFigure:
        return self._figure("reads")

    @strawberry.field
    def searches(self) -> KpiFigure:
        return self._figure("searches")

    @strawberry.field
    def searches_without_results(self) -> KpiFigure:
        return self._figure("searchesWithoutResults")
