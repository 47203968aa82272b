from __future__ import annotations

from datetime import datetime

import strawberry
from tortoise.queryset import QuerySet

from actions import request_types
from actions._common import now
from actions.requests import OPEN
from domain import policy
from domain.business_hours import BusinessCalendar as Calendar
from domain.sla import SlaTargets, compute_sla
from graphql_schema.context import Info
from graphql_schema.permissions import CanSeeRequest, IsAuthenticated, IsStaff, rule
from graphql_schema.relay import DEFAULT_PAGE_SIZE, Connection, fetch_by_global_id, paginate
from graphql_schema.requests.types import (
    BusinessCalendar,
    Request,
    RequestType,
    history_of,
)
from models import BusinessCalendar as CalendarRow
from models import RequestStatus, RequestStatusChange, ServiceRequest, SlaPolicy
from models import User as UserRow


@strawberry.input(description="Which requests to list; every condition given must hold.")
class RequestFilter:
    status: list[RequestStatus] | None = None
    assignee_id: strawberry.ID | None = None
    unassigned: bool | None = strawberry.field(
        default=None, description="Only requests nobody is assigned to."
    )
    customer_id: strawberry.ID | None = None
    project_id: strawberry.ID | None = None
    overdue: bool | None = strawberry.field(
        default=None,
        description="Open requests past their due date or with a breached SLA clock.",
    )
    needs_my_action: bool | None = strawberry.field(
        default=None,
        description=(
            "Staff: open requests assigned to you that are not waiting for the customer. "
            "Contacts: requests waiting for the customer (NEEDS_INFO)."
        ),
    )


async def overdue_ids(requests: QuerySet[ServiceRequest], moment: datetime) -> list[int]:
    """The open requests among ``requests`` past their due date or with a breached SLA
    clock (computed from each one's history)."""
    rows = await requests.filter(status__in=list(OPEN))
    if not rows:
        return []
    ids = [row.id for row in rows]
    changes: dict[int, list[RequestStatusChange]] = {}
    for change in await RequestStatusChange.filter(request_id__in=ids).order_by("id"):
        changes.setdefault(change.request_id, []).append(change)
    policies = {
        (p.request_type_id, p.customer_id): p
        for p in await SlaPolicy.filter(request_type_id__in={r.request_type_id for r in rows})
    }
    calendars = {c.id: Calendar.from_json(c.definition) for c in await CalendarRow.all()}
    found = []
    for row in rows:
        if row.due_at is not None and row.due_at < moment:
            found.append(row.id)
            continue
        sla = policies.get((row.request_type_id, row.customer_id)) or policies.get(
            (row.request_type_id, None)
        )
        if sla is None or sla.calendar_id not in calendars:
            continue
        state = compute_sla(
            history_of(row, changes.get(row.id, [])),
            calendars[sla.calendar_id],
            SlaTargets(sla.first_response_minutes, sla.resolution_minutes),
            now=moment,
        )
        if state.breached:
            found.append(row.id)
    return found


async def filtered(viewer: UserRow, where: RequestFilter | None) -> QuerySet[ServiceRequest]:
    """The viewer's requests that meet ``where``; another customer's or a project's ID out
    of sight is NOT_FOUND, as a missing one."""
    requests = policy.visible_requests(viewer)
    if where is None:
        return requests
    if where.status:
        requests = requests.filter(status__in=list(where.status))
    if where.assignee_id is not None:
        assignee = await fetch_by_global_id(policy.visible_users(viewer), where.assignee_id, "User")
        requests = requests.filter(assignee_id=assignee.id)
    if where.unassigned:
        requests = requests.filter(assignee_id=None)
    if where.customer_id is not None:
        customer = await fetch_by_global_id(
            policy.visible_customers(viewer), where.customer_id, "Customer"
        )
        requests = requests.filter(customer_id=customer.id)
    if where.project_id is not None:
        project = await fetch_by_global_id(
            policy.visible_projects(viewer), where.project_id, "Project"
        )
        requests = requests.filter(project_id=project.id)
    if where.needs_my_action:
        if viewer.is_staff:
            requests = requests.filter(
                assignee_id=viewer.id,
                status__in=[
                    RequestStatus.RECEIVED,
                    RequestStatus.IN_PROGRESS,
                    RequestStatus.APPROVED,
                ],
            )
        else:
            requests = requests.filter(status=RequestStatus.NEEDS_INFO)
    if where.overdue is not None:
        late = await overdue_ids(requests, now())
        requests = requests.filter(id__in=late) if where.overdue else requests.exclude(id__in=late)
    return requests


@strawberry.type
class Query:
    @strawberry.field(
        extensions=rule(IsAuthenticated),
        description=(
            "Request types offered to a customer: a contact's own customer's; staff: the "
            "given customer's, or every type."
        ),
    )
    async def request_types(
        self, info: Info, customer_id: strawberry.ID | None = None
    ) -> list[RequestType]:
        viewer = info.context.require_viewer()
        customer: int | None = viewer.customer_id
        if customer_id is not None:
            found = await fetch_by_global_id(
                policy.visible_customers(viewer), customer_id, "Customer"
            )
            customer = found.id
        rows = await request_types.offered_types(customer)
        return [RequestType.from_row(row) for row in rows]

    @strawberry.field(extensions=rule(CanSeeRequest), description="Requests you may see.")
    async def requests(
        self,
        info: Info,
        filter: RequestFilter | None = None,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[Request]:
        requests = await filtered(info.context.require_viewer(), filter)
        return await paginate(
            requests, first=first, after=after, to_node=Request.from_row, newest_first=True
        )

    @strawberry.field(extensions=rule(CanSeeRequest))
    async def request(self, info: Info, id: strawberry.ID) -> Request | None:
        scope = policy.visible_requests(info.context.require_viewer())
        return Request.from_row(await fetch_by_global_id(scope, id, "Request"))

    @strawberry.field(extensions=rule(IsStaff), description="Business calendars (staff).")
    async def business_calendars(self) -> list[BusinessCalendar]:
        return [BusinessCalendar.from_row(row) for row in await CalendarRow.all().order_by("name")]
