"""Request events as clients receive them (``requestEvents``, ``myFeed``, notifications)."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

import strawberry

from graphql_schema.accounts.types import User, load_user
from graphql_schema.context import Info
from graphql_schema.requests.types import ExpectedDocument, Request, RequestMessage
from models import Event as EventRow
from models import EventKind, RequestStatus
from models import ExpectedDocument as DocumentRow
from models import RequestMessage as MessageRow
from models import events as payloads
from realtime.stream import encode_cursor

P = TypeVar("P")


@strawberry.interface(description="Something that happened to a request.")
class RequestActivity:
    row: strawberry.Private[EventRow]

    @strawberry.field(description="Resume after this event with `after: cursor`.")
    def cursor(self) -> str:
        return encode_cursor(self.row.id)

    @strawberry.field
    def occurred_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(description="Who did it.")
    async def actor(self, info: Info) -> User:
        return await load_user(info, self.row.actor_id)

    @strawberry.field(description="The request, as it is now (null if you may no longer see it).")
    async def request(self, info: Info) -> Request | None:
        if self.row.request_id is None:
            return None
        row = await info.context.loaders.requests.request.load(self.row.request_id)
        return Request.from_row(row) if row else None


def _details(row: EventRow, kind: type[P]) -> P:
    details = row.details
    assert isinstance(details, kind)
    return details


@strawberry.type(description="A contact submitted the request.")
class RequestSubmitted(RequestActivity):
    pass


@strawberry.type(description="The request's status changed (by itself: `automatic`).")
class RequestStatusChanged(RequestActivity):
    @strawberry.field
    def from_status(self) -> RequestStatus:
        return _details(self.row, payloads.RequestStatusChanged).from_status

    @strawberry.field
    def to_status(self) -> RequestStatus:
        return _details(self.row, payloads.RequestStatusChanged).to_status

    @strawberry.field
    def reason(self) -> str:
        return _details(self.row, payloads.RequestStatusChanged).reason

    @strawberry.field
    def next_step(self) -> str:
        return _details(self.row, payloads.RequestStatusChanged).next_step

    @strawberry.field(description="Moved by the product (a reply, the last document).")
    def automatic(self) -> bool:
        return _details(self.row, payloads.RequestStatusChanged).automatic


@strawberry.type(description="The request was given to someone (or to nobody).")
class RequestAssigned(RequestActivity):
    @strawberry.field
    async def assignee(self, info: Info) -> User | None:
        assignee = _details(self.row, payloads.RequestAssigned).assignee_id
        return None if assignee is None else await load_user(info, assignee)


@strawberry.type(description="A reply (or, for staff, an INTERNAL note) was written.")
class RequestReplied(RequestActivity):
    @strawberry.field
    async def message(self) -> RequestMessage | None:
        message_id = _details(self.row, payloads.RequestReplied).message_id
        row = await MessageRow.get_or_none(id=message_id)
        return RequestMessage.from_row(row) if row else None


@strawberry.type(description="Files arrived for an expected document.")
class RequestDocumentAdded(RequestActivity):
    @strawberry.field
    async def expected_document(self) -> ExpectedDocument | None:
        document_id = _details(self.row, payloads.RequestDocumentAdded).expected_document_id
        row = await DocumentRow.get_or_none(id=document_id)
        return ExpectedDocument.from_row(row) if row else None


@strawberry.type(description="The request's due date changed (null: none).")
class RequestDueDateChanged(RequestActivity):
    @strawberry.field
    def due_at(self) -> datetime | None:
        due = _details(self.row, payloads.RequestDueDateChanged).due_at
        return None if due is None else datetime.fromisoformat(due)


@strawberry.type(description="A contact now sees and follows the request.")
class RequestParticipantAdded(RequestActivity):
    @strawberry.field
    async def participant(self, info: Info) -> User:
        return await load_user(info, _details(self.row, payloads.RequestParticipantAdded).user_id)


@strawberry.type(description="An SLA clock of the request is about to breach (staff only).")
class RequestSlaWarning(RequestActivity):
    @strawberry.field(description="firstResponse or resolution.")
    def clock(self) -> str:
        return _details(self.row, payloads.RequestSlaWarning).clock

    @strawberry.field
    def breaches_at(self) -> datetime:
        return datetime.fromisoformat(_details(self.row, payloads.RequestSlaWarning).breaches_at)


@strawberry.type(description="An SLA clock of the request breached (staff only).")
class RequestSlaBreached(RequestActivity):
    @strawberry.field(description="firstResponse or resolution.")
    def clock(self) -> str:
        return _details(self.row, payloads.RequestSlaBreached).clock

    @strawberry.field
    def breached_at(self) -> datetime:
        return datetime.fromisoformat(_details(self.row, payloads.RequestSlaBreached).breached_at)


@strawberry.type(description="The requester was reminded that the request waits for them.")
class RequestReminded(RequestActivity):
    @strawberry.field(description="Working days the request has waited for the customer.")
    def business_days(self) -> int:
        return _details(self.row, payloads.RequestReminded).business_days

    @strawberry.field
    def waiting_since(self) -> datetime:
        return datetime.fromisoformat(_details(self.row, payloads.RequestReminded).waiting_since)


REQUEST_EVENT_TYPES: dict[EventKind, type[RequestActivity]] = {
    EventKind.REQUEST_SUBMITTED: RequestSubmitted,
    EventKind.REQUEST_STATUS_CHANGED: RequestStatusChanged,
    EventKind.REQUEST_ASSIGNED: RequestAssigned,
    EventKind.REQUEST_REPLIED: RequestReplied,
    EventKind.REQUEST_DOCUMENT_ADDED: RequestDocumentAdded,
    EventKind.REQUEST_DUE_DATE_CHANGED: RequestDueDateChanged,
    EventKind.REQUEST_PARTICIPANT_ADDED: RequestParticipantAdded,
    EventKind.REQUEST_SLA_WARNING: RequestSlaWarning,
    EventKind.REQUEST_SLA_BREACHED: RequestSlaBreached,
    EventKind.REQUEST_REMINDED: RequestReminded,
}


def request_activity(row: EventRow) -> RequestActivity:
    return REQUEST_EVENT_TYPES[row.kind](row=row)
