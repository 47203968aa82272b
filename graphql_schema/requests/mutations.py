from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from actions import request_types, requests
from graphql_schema.context import Info
from graphql_schema.enums import Visibility
from graphql_schema.permissions import (
    CanAddRequestParticipant,
    CanChangeRequestStatus,
    CanHandleRequest,
    CanReopenRequest,
    CanReplyToRequest,
    CanSubmitRequest,
    IsAdmin,
    rule,
)
from graphql_schema.relay import node_pk
from graphql_schema.requests.types import (
    BusinessCalendar,
    Request,
    RequestMessage,
    RequestType,
    SlaPolicy,
)
from models import RequestActor, RequestStatus, ServiceRequest

UNSET = strawberry.UNSET


@strawberry.input
class SubmitRequestInput:
    type_id: strawberry.ID
    title: str
    answers: JSON = strawberry.field(
        description="Field name → answer; an attachments field lists IDs from attachmentIds."
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for staff; a contact's own customer otherwise."
    )
    project_id: strawberry.ID | None = None
    attachment_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Your uploads for this request (RequestAttachment)."
    )


@strawberry.type
class RequestPayload:
    request: Request


@strawberry.input
class ReplyToRequestInput:
    request_id: strawberry.ID
    body: str = ""
    visibility: Visibility = Visibility.SHARED
    attachment_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    expected_document_id: strawberry.ID | None = strawberry.field(
        default=None, description="The checklist item these files are for."
    )


@strawberry.type
class ReplyToRequestPayload:
    request: Request
    message: RequestMessage


@strawberry.input
class ChangeRequestStatusInput:
    request_id: strawberry.ID
    status: RequestStatus
    reason: str = ""
    next_step: str | None = strawberry.field(
        default=None, description="Staff: the line shown to the customer from now on."
    )
    expected_documents: list[str] = strawberry.field(
        default_factory=list, description="Staff: documents to ask for (checklist items)."
    )


@strawberry.input
class AssignRequestInput:
    request_id: strawberry.ID
    assignee_id: strawberry.ID | None = strawberry.field(
        default=None, description="A member of the staff; null: nobody."
    )


@strawberry.input
class AddRequestParticipantInput:
    request_id: strawberry.ID
    user_id: strawberry.ID


@strawberry.input
class SetRequestDueDateInput:
    request_id: strawberry.ID
    due_at: datetime | None = None


@strawberry.input
class RequestReasonInput:
    request_id: strawberry.ID
    reason: str = ""


@strawberry.input(description="A lifecycle transition: from, to, and who may make it.")
class RequestTransitionInput:
    from_status: RequestStatus = strawberry.field(name="from")
    to_status: RequestStatus = strawberry.field(name="to")
    by: list[RequestActor]


@strawberry.input
class CreateRequestTypeInput:
    name: str
    description: str = ""
    form: JSON
    lifecycle: list[RequestTransitionInput] | None = strawberry.field(
        default=None, description="Null: the default lifecycle."
    )
    reopen_days: int = 14
    default_assignee_id: strawberry.ID | None = None
    offered_to_all: bool = True
    customer_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Customers it is offered to when not to all."
    )


@strawberry.input
class UpdateRequestTypeInput:
    type_id: strawberry.ID
    name: str | None = UNSET
    description: str | None = UNSET
    form: JSON | None = UNSET
    lifecycle: list[RequestTransitionInput] | None = UNSET
    reopen_days: int | None = UNSET
    default_assignee_id: strawberry.ID | None = UNSET
    offered_to_all: bool | None = UNSET
    customer_ids: list[strawberry.ID] | None = UNSET


@strawberry.type
class RequestTypePayload:
    request_type: RequestType


@strawberry.input
class SetSlaPolicyInput:
    type_id: strawberry.ID
    calendar_id: strawberry.ID
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Overrides the type's policy for this customer."
    )
    first_response_minutes: int | None = None
    resolution_minutes: int | None = None


@strawberry.type
class SetSlaPolicyPayload:
    sla_policy: SlaPolicy


@strawberry.input
class SetBusinessCalendarInput:
    name: str
    definition: JSON = strawberry.field(
        description='{"timeZone": "Europe/Berlin", "hours": {"monday": [["09:00", "17:00"]]}, '
        '"holidays": ["2026-12-25"]}'
    )
    calendar_id: strawberry.ID | None = strawberry.field(
        default=None, description="The calendar to change; null: a new one."
    )


@strawberry.type
class SetBusinessCalendarPayload:
    calendar: BusinessCalendar


def _request_pk(value: strawberry.ID) -> int:
    return node_pk(value, "Request")


def _payload(row: ServiceRequest) -> RequestPayload:
    return RequestPayload(request=Request.from_row(row))


def _lifecycle(items: list[RequestTransitionInput] | None) -> list[dict[str, object]] | None:
    if items is None:
        return None
    return [
        {"from": t.from_status.value, "to": t.to_status.value, "by": [a.value for a in t.by]}
        for t in items
    ]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=rule(CanSubmitRequest),
        description=(
            "Submit a request of a type offered to the customer. Every problem of the answers "
            "is its own BAD_USER_INPUT error naming the field (extensions.field), all at "
            "once; nothing is saved then."
        ),
    )
    async def submit_request(self, info: Info, input: SubmitRequestInput) -> RequestPayload | None:
        row = await requests.submit_request(
            info.context.require_viewer(),
            info.context.bus,
            type_id=node_pk(input.type_id, "RequestType"),
            title=input.title,
            answers=input.answers,
            customer_id=node_pk(input.customer_id, "Customer") if input.customer_id else None,
            project_id=node_pk(input.project_id, "Project") if input.project_id else None,
            attachments={
                str(value): node_pk(value, "RequestAttachment") for value in input.attachment_ids
            },
        )
        return _payload(row)

    @strawberry.mutation(
        extensions=rule(CanReplyToRequest),
        description=(
            "Write in the request's conversation (INTERNAL: a staff note). A contact's reply "
            "to a request in NEEDS_INFO, or the files of the last expected document, move it "
            "back to IN_PROGRESS."
        ),
    )
    async def reply_to_request(
        self, info: Info, input: ReplyToRequestInput
    ) -> ReplyToRequestPayload | None:
        request_id = _request_pk(input.request_id)
        document = input.expected_document_id
        message = await requests.reply_to_request(
            info.context.require_viewer(),
            info.context.bus,
            request_id=request_id,
            body=input.body,
            visibility=input.visibility,
            attachment_ids=[node_pk(v, "RequestAttachment") for v in input.attachment_ids],
            expected_document_id=node_pk(document, "ExpectedDocument") if document else None,
        )
        row = await ServiceRequest.get(id=request_id)
        return ReplyToRequestPayload(
            request=Request.from_row(row), message=RequestMessage.from_row(message)
        )

    @strawberry.mutation(
        extensions=rule(CanChangeRequestStatus),
        description=(
            "Move the request along its type's lifecycle; a transition it does not allow you "
            "is BAD_USER_INPUT naming the allowed ones (extensions.allowedStatuses)."
        ),
    )
    async def change_request_status(
        self, info: Info, input: ChangeRequestStatusInput
    ) -> RequestPayload | None:
        row = await requests.change_request_status(
            info.context.require_viewer(),
            info.context.bus,
            request_id=_request_pk(input.request_id),
            status=input.status,
            reason=input.reason,
            next_step=input.next_step,
            expected_documents=input.expected_documents,
        )
        return _payload(row)

    @strawberry.mutation(extensions=rule(CanHandleRequest), description="Give it to staff.")
    async def assign_request(self, info: Info, input: AssignRequestInput) -> RequestPayload | None:
        assignee = input.assignee_id
        row = await requests.assign_request(
            info.context.require_viewer(),
            info.context.bus,
            request_id=_request_pk(input.request_id),
            assignee_id=node_pk(assignee, "User") if assignee else None,
        )
        return _payload(row)

    @strawberry.mutation(
        extensions=rule(CanAddRequestParticipant),
        description="Let another contact of the customer see and follow the request.",
    )
    async def add_request_participant(
        self, info: Info, input: AddRequestParticipantInput
    ) -> RequestPayload | None:
        row = await requests.add_request_participant(
            info.context.require_viewer(),
            info.context.bus,
            request_id=_request_pk(input.request_id),
            user_id=node_pk(input.user_id, "User"),
        )
        return _payload(row)

    @strawberry.mutation(extensions=rule(CanHandleRequest), description="Null clears it.")
    async def set_request_due_date(
        self, info: Info, input: SetRequestDueDateInput
    ) -> RequestPayload | None:
        row = await requests.set_request_due_date(
            info.context.require_viewer(),
            info.context.bus,
            request_id=_request_pk(input.request_id),
            due_at=input.due_at,
        )
        return _payload(row)

    @strawberry.mutation(
        extensions=rule(CanChangeRequestStatus),
        description="Withdraw it (by default: its requester or lead contact, while open).",
    )
    async def withdraw_request(
        self, info: Info, input: RequestReasonInput
    ) -> RequestPayload | None:
        row = await requests.withdraw_request(
            info.context.require_viewer(),
            info.context.bus,
            request_id=_request_pk(input.request_id),
            reason=input.reason,
        )
        return _payload(row)

    @strawberry.mutation(
        extensions=rule(CanReopenRequest),
        description="Reopen a resolved request within its type's reopenDays (its requester).",
    )
    async def reopen_request(self, info: Info, input: RequestReasonInput) -> RequestPayload | None:
        row = await requests.reopen_request(
            info.context.require_viewer(),
            info.context.bus,
            request_id=_request_pk(input.request_id),
            reason=input.reason,
        )
        return _payload(row)

    @strawberry.mutation(extensions=rule(IsAdmin))
    async def create_request_type(
        self, info: Info, input: CreateRequestTypeInput
    ) -> RequestTypePayload | None:
        assignee = input.default_assignee_id
        row = await request_types.create_request_type(
            info.context.require_viewer(),
            name=input.name,
            description=input.description,
            form=input.form,
            lifecycle=_lifecycle(input.lifecycle),
            reopen_days=input.reopen_days,
            default_assignee_id=node_pk(assignee, "User") if assignee else None,
            offered_to_all=input.offered_to_all,
            customer_ids=[node_pk(c, "Customer") for c in input.customer_ids],
        )
        return RequestTypePayload(request_type=RequestType.from_row(row))

    @strawberry.mutation(extensions=rule(IsAdmin), description="Change what is given.")
    async def update_request_type(
        self, info: Info, input: UpdateRequestTypeInput
    ) -> RequestTypePayload | None:
        changes: dict[str, object] = {}
        if input.name is not UNSET:
            changes["name"] = input.name
        if input.description is not UNSET:
            changes["description"] = input.description
        if input.form is not UNSET:
            changes["form"] = input.form
        if input.lifecycle is not UNSET:
            changes["lifecycle"] = _lifecycle(input.lifecycle)
        if input.reopen_days is not UNSET:
            changes["reopen_days"] = input.reopen_days
        if input.default_assignee_id is not UNSET:
            assignee = input.default_assignee_id
            changes["default_assignee_id"] = node_pk(assignee, "User") if assignee else None
        if input.offered_to_all is not UNSET:
            changes["offered_to_all"] = input.offered_to_all
        if input.customer_ids is not UNSET and input.customer_ids is not None:
            changes["customer_ids"] = [node_pk(c, "Customer") for c in input.customer_ids]
        row = await request_types.update_request_type(
            info.context.require_viewer(),
            type_id=node_pk(input.type_id, "RequestType"),
            **changes,  # type: ignore[arg-type]
        )
        return RequestTypePayload(request_type=RequestType.from_row(row))

    @strawberry.mutation(
        extensions=rule(IsAdmin),
        description="Set a request type's SLA targets (business minutes), for all or one customer.",
    )
    async def set_sla_policy(
        self, info: Info, input: SetSlaPolicyInput
    ) -> SetSlaPolicyPayload | None:
        customer = input.customer_id
        row = await request_types.set_sla_policy(
            info.context.require_viewer(),
            type_id=node_pk(input.type_id, "RequestType"),
            calendar_id=node_pk(input.calendar_id, "BusinessCalendar"),
            customer_id=node_pk(customer, "Customer") if customer else None,
            first_response_minutes=input.first_response_minutes,
            resolution_minutes=input.resolution_minutes,
        )
        return SetSlaPolicyPayload(sla_policy=SlaPolicy.from_row(row))

    @strawberry.mutation(
        extensions=rule(IsAdmin),
        description="Create or change a business calendar; open requests' SLAs follow it.",
    )
    async def set_business_calendar(
        self, info: Info, input: SetBusinessCalendarInput
    ) -> SetBusinessCalendarPayload | None:
        calendar = input.calendar_id
        row = await request_types.set_business_calendar(
            info.context.require_viewer(),
            name=input.name,
            definition=input.definition,
            calendar_id=node_pk(calendar, "BusinessCalendar") if calendar else None,
        )
        return SetBusinessCalendarPayload(calendar=BusinessCalendar.from_row(row))
