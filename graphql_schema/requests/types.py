"""Requests, request types and what they hold, as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from actions import request_types
from actions._common import now
from actions.requests import is_closed, open_transitions
from domain import policy
from domain import sla as clocks
from domain.business_hours import BusinessCalendar as Calendar
from domain.sla import RequestHistory, SlaState, SlaTargets, StatusChange, compute_sla
from domain.tokens import DownloadKind
from graphql_schema.accounts.types import User, load_user
from graphql_schema.context import Info
from graphql_schema.customers.types import Customer
from graphql_schema.downloads import download_link
from graphql_schema.enums import Visibility
from graphql_schema.permissions import IsStaff, rule
from graphql_schema.projects.types import Project
from graphql_schema.relay import global_id
from graphql_schema.rows import FromRow
from graphql_schema.varies import SAME_FOR_EVERY_READER
from models import BusinessCalendar as CalendarRow
from models import ExpectedDocument as DocumentRow
from models import RequestActor, RequestStatus
from models import RequestAttachment as AttachmentRow
from models import RequestMessage as MessageRow
from models import RequestStatusChange as ChangeRow
from models import RequestType as TypeRow
from models import ServiceRequest as RequestRow
from models import SlaPolicy as PolicyRow

strawberry.enum(
    RequestStatus,
    description=(
        "RECEIVED, IN_PROGRESS, NEEDS_INFO (waiting for the customer: the SLA pauses), "
        "APPROVED, REJECTED, RESOLVED (reopenable by its requester for the type's "
        "reopenDays), WITHDRAWN."
    ),
)
strawberry.enum(
    RequestActor,
    description=(
        "Who may make a transition: STAFF (who handle the request), REQUESTER, "
        "LEAD_CONTACT (of the request's customer)."
    ),
)


@strawberry.type(description="A transition a request type's lifecycle allows, and who may make it.")
class RequestTransition:
    from_status: RequestStatus = strawberry.field(name="from")
    to_status: RequestStatus = strawberry.field(name="to")
    by: list[RequestActor]


def transitions(row: TypeRow) -> list[RequestTransition]:
    return [
        RequestTransition(from_status=t.from_status, to_status=t.to_status, by=sorted(t.by))
        for t in request_types.lifecycle_of(row)
    ]


@strawberry.type(description="Working time: time zone, working days and hours, holidays.")
class BusinessCalendar(FromRow, relay.Node):
    id: relay.NodeID[int]
    name: str
    updated_at: datetime
    row: strawberry.Private[CalendarRow]

    @strawberry.field(
        description='{"timeZone": "Europe/Berlin", "hours": {"monday": [["09:00", "17:00"]], '
        '...}, "holidays": ["2026-12-25"]}'
    )
    def definition(self) -> JSON:
        return cast(JSON, self.row.definition)


@strawberry.type(description="SLA targets of a request type, in business minutes of a calendar.")
class SlaPolicy(FromRow):
    first_response_minutes: int | None
    resolution_minutes: int | None
    row: strawberry.Private[PolicyRow]

    @strawberry.field(description="Whose policy this is (null: every customer's).")
    async def customer(self, info: Info) -> Customer | None:
        if self.row.customer_id is None:
            return None
        row = await info.context.loaders.customer.load(self.row.customer_id)
        return Customer.from_row(row) if row else None

    @strawberry.field
    async def calendar(self, info: Info) -> BusinessCalendar:
        row = await info.context.loaders.requests.calendar.load(self.row.calendar_id)
        assert row is not None
        return BusinessCalendar.from_row(row)


@strawberry.type(description="A kind of request: its form, lifecycle, SLA and default assignee.")
class RequestType(FromRow, relay.Node):
    id: relay.NodeID[int]
    name: str
    description: str
    reopen_days: int = strawberry.field(
        description="Days after its resolution during which a request may be reopened."
    )
    offered_to_all: bool = strawberry.field(
        description="Offered to every customer (otherwise to chosen ones)."
    )
    row: strawberry.Private[TypeRow]

    @strawberry.field(
        description=(
            'The form: {"schema": JSON Schema (draft 2020-12) of the answers, "ui": '
            '{"order": [...], "fields": {name: {"kind", "label", "help", "unit", "showIf", '
            '"prefill"}}}}.'
        )
    )
    def form(self) -> JSON:
        return cast(JSON, self.row.form)

    @strawberry.field(description="The transitions allowed, and who may make each.")
    def lifecycle(self) -> list[RequestTransition]:
        return transitions(self.row)

    @strawberry.field(
        description="The SLA that applies to your customer's requests (staff: the general one)."
    )
    async def sla_policy(self, info: Info) -> SlaPolicy | None:
        viewer = info.context.require_viewer()
        row = await info.context.loaders.requests.sla_policy.load(
            (self.row.id, viewer.customer_id or 0)
        )
        return SlaPolicy.from_row(row) if row else None

    @strawberry.field(extensions=rule(IsStaff), description="Staff only.")
    async def default_assignee(self, info: Info) -> User | None:
        if self.row.default_assignee_id is None:
            return None
        return await load_user(info, self.row.default_assignee_id)


@strawberry.type(description="A file sent with a request.")
class RequestAttachment(FromRow, relay.Node):
    id: relay.NodeID[int]
    name: str
    content_type: str
    size: int = strawberry.field(description="In bytes.")
    created_at: datetime
    row: strawberry.Private[AttachmentRow]

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def uploaded_by(self, info: Info) -> User:
        return await load_user(info, self.row.uploaded_by_id)

    @strawberry.field(
        description=(
            "A link to the file for you, valid for five minutes while your session lasts "
            "and you may still read it (checked at download time); do not share it."
        )
    )
    def download_url(self, info: Info) -> str:
        path = f"/request-attachments/{global_id('RequestAttachment', self.row.id)}"
        return download_link(info, path, DownloadKind.REQUEST_FILE, self.row.id)


@strawberry.type(description="An item of a request's checklist: a document the provider expects.")
class ExpectedDocument(FromRow, relay.Node):
    id: relay.NodeID[int]
    name: str
    required: bool
    received_at: datetime | None
    row: strawberry.Private[DocumentRow]

    @strawberry.field
    def received(self) -> bool:
        return self.row.received_at is not None

    @strawberry.field
    async def attachments(self, info: Info) -> list[RequestAttachment]:
        rows = await info.context.loaders.requests.attachments_of_document.load(self.row.id)
        return [RequestAttachment.from_row(row) for row in rows]


@strawberry.type(description="A reply in a request's conversation; INTERNAL: a staff note.")
class RequestMessage(FromRow, relay.Node):
    id: relay.NodeID[int]
    body: str = strawberry.field(description="Markdown source.")
    body_html: str = strawberry.field(description="Safe HTML rendered from Markdown.")
    visibility: Visibility
    created_at: datetime
    row: strawberry.Private[MessageRow]

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def author(self, info: Info) -> User:
        return await load_user(info, self.row.author_id)

    @strawberry.field
    async def attachments(self, info: Info) -> list[RequestAttachment]:
        rows = await info.context.loaders.requests.attachments_of_message.load(self.row.id)
        return [RequestAttachment.from_row(row) for row in rows]


@strawberry.type(description="One recorded status of a request: from (null at submission), to.")
class RequestHistoryEntry(FromRow):
    from_status: RequestStatus | None
    to_status: RequestStatus
    reason: str
    created_at: datetime
    row: strawberry.Private[ChangeRow]

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def actor(self, info: Info) -> User:
        return await load_user(info, self.row.actor_id)


@strawberry.type(description="One SLA clock, in business minutes of the policy's calendar.")
class SlaClock:
    target_minutes: int
    elapsed_minutes: int
    remaining_minutes: int
    breached: bool
    paused: bool = strawberry.field(description="Waiting for the customer: not counting.")
    breaches_at: datetime | None = strawberry.field(
        description="While counting: when the target is reached if nothing changes."
    )
    met_at: datetime | None = strawberry.field(description="When it stopped within its target.")

    @classmethod
    def of(cls, clock: clocks.SlaClock | None) -> SlaClock | None:
        if clock is None:
            return None
        return cls(
            target_minutes=clock.target_minutes,
            elapsed_minutes=clock.elapsed_minutes,
            remaining_minutes=clock.remaining_minutes,
            breached=clock.breached,
            paused=clock.paused,
            breaches_at=clock.breaches_at,
            met_at=clock.met_at,
        )


@strawberry.type(description="A request's SLA, computed from its history against the calendar.")
class RequestSla:
    paused: bool = strawberry.field(description="Waiting for the customer (NEEDS_INFO).")
    first_response: SlaClock | None
    resolution: SlaClock | None


def history_of(request: RequestRow, changes: list[ChangeRow]) -> RequestHistory:
    """What the SLA is computed from: the recorded statuses after submission."""
    return RequestHistory(
        submitted_at=request.created_at,
        changes=[StatusChange(c.created_at, c.to_status.value) for c in changes if c.from_status],
        first_response_at=request.first_response_at,
    )


async def sla_state(info: Info, request: RequestRow) -> SlaState | None:
    """The request's SLA now, or None when its type has no policy for its customer."""
    loaders = info.context.loaders.requests
    sla = await loaders.sla_policy.load((request.request_type_id, request.customer_id))
    if sla is None:
        return None
    calendar = await loaders.calendar.load(sla.calendar_id)
    if calendar is None:
        return None
    changes = await loaders.history.load(request.id)
    return compute_sla(
        history_of(request, changes),
        Calendar.from_json(calendar.definition),
        SlaTargets(sla.first_response_minutes, sla.resolution_minutes),
        now=now(),
    )


@strawberry.type(description="What a customer's contact asked of the provider through a form.")
class Request(FromRow, relay.Node):
    id: relay.NodeID[int]
    number: str = strawberry.field(description="Per customer, e.g. ACME-42.")
    title: str
    status: RequestStatus
    due_at: datetime | None
    next_step: str = strawberry.field(description="What happens next, as the customer sees it.")
    first_response_at: datetime | None
    resolved_at: datetime | None
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[RequestRow]

    @classmethod
    def from_row(cls, row: RequestRow, **values: object) -> Request:
        return super().from_row(row, **{"number": row.reference, **values})

    @strawberry.field(description="The answers to the type's form (field name → value).")
    def answers(self) -> JSON:
        return cast(JSON, self.row.answers)

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def type(self, info: Info) -> RequestType:
        row = await info.context.loaders.requests.request_type.load(self.row.request_type_id)
        assert row is not None
        return RequestType.from_row(row)

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def customer(self, info: Info) -> Customer:
        row = await info.context.loaders.customer.load(self.row.customer_id)
        assert row is not None
        return Customer.from_row(row)

    @strawberry.field(description="The project it is about, if you may see it.")
    async def project(self, info: Info) -> Project | None:
        if self.row.project_id is None:
            return None
        row = await info.context.loaders.visible_project.load(self.row.project_id)
        return Project.from_row(row) if row else None

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def requester(self, info: Info) -> User:
        return await load_user(info, self.row.requester_id)

    @strawberry.field(description="Contacts who see and follow it like its requester.")
    async def participants(self, info: Info) -> list[User]:
        rows = await info.context.loaders.requests.participants.load(self.row.id)
        return [User.from_row(row) for row in rows]

    @strawberry.field(metadata=SAME_FOR_EVERY_READER)
    async def assignee(self, info: Info) -> User | None:
        if self.row.assignee_id is None:
            return None
        return await load_user(info, self.row.assignee_id)

    @strawberry.field
    async def expected_documents(self, info: Info) -> list[ExpectedDocument]:
        rows = await info.context.loaders.requests.expected_documents.load(self.row.id)
        return [ExpectedDocument.from_row(row) for row in rows]

    @strawberry.field(description="The conversation, oldest first; INTERNAL notes for staff only.")
    async def messages(self, info: Info) -> list[RequestMessage]:
        rows = await info.context.loaders.requests.messages.load(self.row.id)
        return [RequestMessage.from_row(row) for row in rows]

    @strawberry.field(description="Every status it had, oldest first (the SLA's source).")
    async def history(self, info: Info) -> list[RequestHistoryEntry]:
        rows = await info.context.loaders.requests.history.load(self.row.id)
        return [RequestHistoryEntry.from_row(row) for row in rows]

    @strawberry.field(description="Its SLA now; no clocks when its type has no SLA policy.")
    async def sla(self, info: Info) -> RequestSla:
        state = await sla_state(info, self.row)
        if state is None:
            return RequestSla(
                paused=self.row.status is RequestStatus.NEEDS_INFO,
                first_response=None,
                resolution=None,
            )
        return RequestSla(
            paused=state.paused,
            first_response=SlaClock.of(state.first_response),
            resolution=SlaClock.of(state.resolution),
        )

    @strawberry.field(description="The statuses you may move it to now.")
    async def allowed_transitions(self, info: Info) -> list[RequestStatus]:
        viewer = info.context.require_viewer()
        request_type = await info.context.loaders.requests.request_type.load(
            self.row.request_type_id
        )
        assert request_type is not None
        on_team = await info.context.loaders.requests.on_account_team.load(self.row.customer_id)
        roles = policy.request_roles_given(viewer, self.row, on_account_team=on_team)
        return open_transitions(self.row, request_type, roles, now())

    @strawberry.field(description="Closed for good: withdrawn, rejected, or past reopening.")
    async def closed(self, info: Info) -> bool:
        request_type = await info.context.loaders.requests.request_type.load(
            self.row.request_type_id
        )
        assert request_type is not None
        return is_closed(self.row, request_type, now())
