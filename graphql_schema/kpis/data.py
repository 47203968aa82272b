"""The facts the KPIs are computed from (domain/kpis.py), read from the database for one
customer (or all) and a period with the period before it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from actions.request_reminders import DEFAULT_CALENDAR, history_of
from domain.business_hours import BusinessCalendar
from domain.kpis import (
    MONTH_DAYS,
    SELF_SERVICE_DAYS,
    Facts,
    Period,
    ReadFact,
    RequestFact,
    SearchFact,
    SessionFact,
    grouped,
)
from domain.sla import SlaState, SlaTargets, compute_sla
from models import (
    BusinessCalendar as CalendarRow,
)
from models import (
    ContactActivityDay,
    ContentKind,
    ContentReadCount,
    ReadingSession,
    RequestStatus,
    RequestStatusChange,
    SearchCount,
    ServiceRequest,
    SlaPolicy,
)

M = TypeVar("M", bound=Model)


def _sla_met(state: SlaState) -> bool | None:
    """True when every clock stopped within its target, False when one is breached, None
    while one still runs (or without targets)."""
    clocks = state.clocks
    if not clocks:
        return None
    if any(clock.breached for clock in clocks):
        return False
    if all(clock.met_at is not None for clock in clocks):
        return True
    return None


async def _requests(
    customer_id: int | None, start: datetime, end: datetime, now: datetime
) -> list[RequestFact]:
    inside = (
        Q(created_at__gte=start, created_at__lt=end)
        | Q(first_response_at__gte=start, first_response_at__lt=end)
        | Q(resolved_at__gte=start, resolved_at__lt=end)
    )
    rows = ServiceRequest.filter(inside)
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    requests = await rows.order_by("id")
    if not requests:
        return []
    changes: dict[int, list[RequestStatusChange]] = {r.id: [] for r in requests}
    for change in await RequestStatusChange.filter(request_id__in=list(changes)).order_by(
        "created_at", "id"
    ):
        changes[change.request_id].append(change)
    policies = await SlaPolicy.filter(request_type_id__in={r.request_type_id for r in requests})
    by_key = {(p.request_type_id, p.customer_id): p for p in policies}
    calendars = {row.id: row for row in await CalendarRow.all().order_by("id")}
    fallback = (
        BusinessCalendar.from_json(next(iter(calendars.values())).definition)
        if calendars
        else DEFAULT_CALENDAR
    )
    parsed: dict[int, BusinessCalendar] = {}
    facts = []
    for request in requests:
        policy = by_key.get((request.request_type_id, request.customer_id)) or by_key.get(
            (request.request_type_id, None)
        )
        calendar = fallback
        if policy is not None and policy.calendar_id in calendars:
            if policy.calendar_id not in parsed:
                parsed[policy.calendar_id] = BusinessCalendar.from_json(
                    calendars[policy.calendar_id].definition
                )
            calendar = parsed[policy.calendar_id]
        history = changes[request.id]
        sla_met = None
        if policy is not None:
            targets = SlaTargets(policy.first_response_minutes, policy.resolution_minutes)
            sla_met = _sla_met(
                compute_sla(history_of(request, history), calendar, targets, now=now)
            )

        def hours(until: datetime | None) -> float | None:
            if until is None:
                return None
            return calendar.business_seconds_between(request.created_at, until) / 3600  # noqa: B023

        facts.append(
            RequestFact(
                id=request.id,
                reference=request.reference,
                created_at=request.created_at,
                first_response_at=request.first_response_at,
                resolved_at=request.resolved_at,
                first_response_hours=hours(request.first_response_at),
                resolution_hours=hours(request.resolved_at),
                sent_back=any(c.to_status is RequestStatus.NEEDS_INFO for c in history),
                sla_met=sla_met,
            )
        )
    return facts


async def gather(
    customer_id: int | None, period: Period, *, now: datetime, show_terms: bool
) -> Facts:
    """The facts of ``customer_id`` (None: every customer) for ``period`` and the one before
    it, as of ``now``; search records name their terms when ``show_terms``."""
    earliest = period.previous()
    start, end = earliest.start_at, period.end_at
    first_day = earliest.start - timedelta(days=MONTH_DAYS)

    def mine(rows: QuerySet[M]) -> QuerySet[M]:
        return rows.filter(customer_id=customer_id) if customer_id is not None else rows

    reads = await mine(
        ContentReadCount.filter(
            day__gte=earliest.start,
            day__lte=period.end,
            kind__in=[ContentKind.PAGE, ContentKind.DOCUMENT],
        )
    )
    searches = await mine(SearchCount.filter(day__gte=earliest.start, day__lte=period.end))
    active = await mine(
        ContactActivityDay.filter(day__gte=first_day, day__lte=period.end)
    ).values_list("user_id", "day")
    sessions = await mine(ReadingSession.filter(first_read_at__gte=start, first_read_at__lt=end))
    contacts = {session.user_id for session in sessions}
    submitted: list[tuple[int, datetime]] = []
    if contacts:
        submitted = await ServiceRequest.filter(
            requester_id__in=contacts,
            created_at__gte=start,
            created_at__lte=end + timedelta(days=SELF_SERVICE_DAYS),
        ).values_list("requester_id", "created_at")
    return Facts(
        requests=await _requests(customer_id, start, end, now),
        reads=[ReadFact(r.kind.value, r.object_id, r.day, r.reads) for r in reads],
        searches=[SearchFact(s.day, s.terms, s.searches, s.found_nothing) for s in searches],
        active=[(int(user), day) for user, day in active],
        sessions=[SessionFact(s.first_read_at, s.user_id) for s in sessions],
        submissions=grouped(submitted),
        show_terms=show_terms,
    )
