"""The durable event log: one row per timeline or request change, with a typed payload per
kind.

Each :class:`EventKind` has one payload dataclass (:data:`EventPayload`): actions build
one and write it to the row's JSON (:meth:`to_json`), readers get it back typed from
:attr:`Event.details` (:func:`read_payload`). The JSON keys are camelCase, as in rows
written before the payloads were typed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Self

from tortoise import connections, fields

from models._base import TimestampedModel, Visibility
from models.projects import ProjectStatus
from models.requests import RequestStatus

if TYPE_CHECKING:
    from models.customers import Customer
    from models.library import LibraryDocument
    from models.projects import Project
    from models.requests import ServiceRequest
    from models.users import User


class EventKind(StrEnum):
    MICROPOST_POSTED = "MICROPOST_POSTED"
    MICROPOST_EDITED = "MICROPOST_EDITED"
    PROJECT_STATUS_CHANGED = "PROJECT_STATUS_CHANGED"
    PAGE_CREATED = "PAGE_CREATED"
    PAGE_UPDATED = "PAGE_UPDATED"
    REQUEST_SUBMITTED = "REQUEST_SUBMITTED"
    REQUEST_STATUS_CHANGED = "REQUEST_STATUS_CHANGED"
    REQUEST_ASSIGNED = "REQUEST_ASSIGNED"
    REQUEST_REPLIED = "REQUEST_REPLIED"
    REQUEST_DOCUMENT_ADDED = "REQUEST_DOCUMENT_ADDED"
    REQUEST_DUE_DATE_CHANGED = "REQUEST_DUE_DATE_CHANGED"
    REQUEST_PARTICIPANT_ADDED = "REQUEST_PARTICIPANT_ADDED"
    REQUEST_SLA_WARNING = "REQUEST_SLA_WARNING"
    REQUEST_SLA_BREACHED = "REQUEST_SLA_BREACHED"
    REQUEST_REMINDED = "REQUEST_REMINDED"
    BUSINESS_DOCUMENT_PUBLISHED = "BUSINESS_DOCUMENT_PUBLISHED"
    BUSINESS_DOCUMENT_STATUS_CHANGED = "BUSINESS_DOCUMENT_STATUS_CHANGED"
    QUOTE_ACCEPTED = "QUOTE_ACCEPTED"
    QUOTE_DECLINED = "QUOTE_DECLINED"
    LIBRARY_DOCUMENT_PUBLISHED = "LIBRARY_DOCUMENT_PUBLISHED"
    LIBRARY_VERSION_ADDED = "LIBRARY_VERSION_ADDED"
    LIBRARY_STATE_CHANGED = "LIBRARY_STATE_CHANGED"
    LIBRARY_DOCUMENT_SUPERSEDED = "LIBRARY_DOCUMENT_SUPERSEDED"
    LIBRARY_ACK_REQUIRED = "LIBRARY_ACK_REQUIRED"
    LIBRARY_ACKNOWLEDGED = "LIBRARY_ACKNOWLEDGED"
    LIBRARY_DOCUMENT_MOVED = "LIBRARY_DOCUMENT_MOVED"
    LIBRARY_EXPIRY_REMINDED = "LIBRARY_EXPIRY_REMINDED"


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True, slots=True)
class _MicropostChange:
    """What the events about one post carry: the post, its author, and the post it replies
    to (``parent_id``) or the concept page it comments on (``page_id``)."""

    micropost_id: int
    author_id: int
    parent_id: int | None = None
    page_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "micropostId": self.micropost_id,
            "parentId": self.parent_id,
            "pageId": self.page_id,
            "authorId": self.author_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(
            micropost_id=int(data["micropostId"]),
            author_id=int(data["authorId"]),
            parent_id=_optional_int(data.get("parentId")),
            page_id=_optional_int(data.get("pageId")),
        )


@dataclass(frozen=True, slots=True)
class MicropostPosted(_MicropostChange):
    """A post, a reply (``parent_id``) or a comment on a concept page (``page_id``)
    appeared on the timeline."""

    kind: ClassVar[EventKind] = EventKind.MICROPOST_POSTED


@dataclass(frozen=True, slots=True)
class MicropostEdited(_MicropostChange):
    """A post's text changed; its earlier text is in its edits."""

    kind: ClassVar[EventKind] = EventKind.MICROPOST_EDITED


@dataclass(frozen=True, slots=True)
class ProjectStatusChanged:
    """The project's status went from ``from_status`` to ``to_status``, for ``reason``
    (may be empty); ``status_change_id`` is the recorded ProjectStatusChange."""

    kind: ClassVar[EventKind] = EventKind.PROJECT_STATUS_CHANGED
    from_status: ProjectStatus
    to_status: ProjectStatus
    reason: str = ""
    status_change_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.from_status.value,
            "to": self.to_status.value,
            "reason": self.reason,
            "statusChangeId": self.status_change_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProjectStatusChanged:
        return cls(
            from_status=ProjectStatus(data["from"]),
            to_status=ProjectStatus(data["to"]),
            reason=str(data.get("reason") or ""),
            status_change_id=_optional_int(data.get("statusChangeId")),
        )


@dataclass(frozen=True, slots=True)
class PageCreated:
    """A concept page was created, as revision 1 (``revision``) titled ``title``."""

    kind: ClassVar[EventKind] = EventKind.PAGE_CREATED
    page_id: int
    title: str
    revision: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"pageId": self.page_id, "revision": self.revision, "title": self.title}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PageCreated:
        return cls(
            page_id=int(data["pageId"]),
            title=str(data["title"]),
            revision=int(data.get("revision", 1)),
        )


@dataclass(frozen=True, slots=True)
class PageUpdated:
    """A concept page got revision ``revision`` (2 or more), titled ``title``, with the
    writer's ``summary`` (may be empty)."""

    kind: ClassVar[EventKind] = EventKind.PAGE_UPDATED
    page_id: int
    revision: int
    title: str
    summary: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "pageId": self.page_id,
            "revision": self.revision,
            "title": self.title,
            "summary": self.summary,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PageUpdated:
        return cls(
            page_id=int(data["pageId"]),
            revision=int(data["revision"]),
            title=str(data["title"]),
            summary=str(data.get("summary") or ""),
        )


@dataclass(frozen=True, slots=True)
class RequestSubmitted:
    """A contact submitted request ``request_id``, numbered ``reference`` (``ACME-42``)."""

    kind: ClassVar[EventKind] = EventKind.REQUEST_SUBMITTED
    request_id: int
    reference: str
    title: str

    def to_json(self) -> dict[str, Any]:
        return {"requestId": self.request_id, "reference": self.reference, "title": self.title}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RequestSubmitted:
        return cls(int(data["requestId"]), str(data["reference"]), str(data["title"]))


@dataclass(frozen=True, slots=True)
class RequestStatusChanged:
    """The request's status went from ``from_status`` to ``to_status`` for ``reason`` (may be
    empty); ``automatic`` when the product moved it (a customer's reply, the last expected
    document); ``next_step`` is the line shown to the customer from then on."""

    kind: ClassVar[EventKind] = EventKind.REQUEST_STATUS_CHANGED
    request_id: int
    from_status: RequestStatus
    to_status: RequestStatus
    reason: str = ""
    next_step: str = ""
    automatic: bool = False
    status_change_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "requestId": self.request_id,
            "from": self.from_status.value,
            "to": self.to_status.value,
            "reason": self.reason,
            "nextStep": self.next_step,
            "automatic": self.automatic,
            "statusChangeId": self.status_change_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RequestStatusChanged:
        return cls(
            request_id=int(data["requestId"]),
            from_status=RequestStatus(data["from"]),
            to_status=RequestStatus(data["to"]),
            reason=str(data.get("reason") or ""),
            next_step=str(data.get("nextStep") or ""),
            automatic=bool(data.get("automatic", False)),
            status_change_id=_optional_int(data.get("statusChangeId")),
        )


@dataclass(frozen=True, slots=True)
class RequestAssigned:
    """The request's assignee became ``assignee_id`` (None: nobody), after
    ``previous_assignee_id``."""

    kind: ClassVar[EventKind] = EventKind.REQUEST_ASSIGNED
    request_id: int
    assignee_id: int | None
    previous_assignee_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "requestId": self.request_id,
            "assigneeId": self.assignee_id,
            "previousAssigneeId": self.previous_assignee_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RequestAssigned:
        return cls(
            int(data["requestId"]),
            _optional_int(data.get("assigneeId")),
            _optional_int(data.get("previousAssigneeId")),
        )


@dataclass(frozen=True, slots=True)
class RequestReplied:
    """Message ``message_id`` joined the request's conversation (the event's visibility is
    the message's: INTERNAL for staff notes)."""

    kind: ClassVar[EventKind] = EventKind.REQUEST_REPLIED
    request_id: int
    message_id: int
    author_id: int

    def to_json(self) -> dict[str, Any]:
        return {
            "requestId": self.request_id,
            "messageId": self.message_id,
            "authorId": self.author_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RequestReplied:
        return cls(int(data["requestId"]), int(data["messageId"]), int(data["authorId"]))


@dataclass(frozen=True, slots=True)
class RequestDocumentAdded:
    """Files (``attachment_ids``) arrived for expected document ``expected_document_id``
    of the request."""

    kind: ClassVar[EventKind] = EventKind.REQUEST_DOCUMENT_ADDED
    request_id: int
    expected_document_id: int
    name: str
    attachment_ids: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "requestId": self.request_id,
            "expectedDocumentId": self.expected_document_id,
            "name": self.name,
            "attachmentIds": list(self.attachment_ids),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RequestDocumentAdded:
        return cls(
            int(data["requestId"]),
            int(data["expectedDocumentId"]),
            str(data.get("name") or ""),
            tuple(int(i) for i in data.get("attachmentIds") or ()),
        )


@dataclass(frozen=True, slots=True)
class RequestDueDateChanged:
    """The request's due date became ``due_at`` (ISO 8601, UTC; None: no due date)."""

    kind: ClassVar[EventKind] = EventKind.REQUEST_DUE_DATE_CHANGED
    request_id: int
    due_at: str | None

    def to_json(self) -> dict[str, Any]:
        return {"requestId": self.request_id, "dueAt": self.due_at}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RequestDueDateChanged:
        due = data.get("dueAt")
        return cls(int(data["requestId"]), None if due is None else str(due))


@dataclass(frozen=True, slots=True)
class RequestParticipantAdded:
    """Contact ``user_id`` now sees and follows the request."""

    kind: ClassVar[EventKind] = EventKind.REQUEST_PARTICIPANT_ADDED
    request_id: int
    user_id: int

    def to_json(self) -> dict[str, Any]:
        return {"requestId": self.request_id, "userId": self.user_id}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RequestParticipantAdded:
        return cls(int(data["requestId"]), int(data["userId"]))


@dataclass(frozen=True, slots=True)
class RequestSlaWarning:
    """The request's SLA clock ``clock`` (``firstResponse`` or ``resolution``) will be
    breached at ``breaches_at`` (ISO 8601, UTC) if nothing changes: its assignee was warned
    (an INTERNAL event, by the product; the actor is the requester)."""

    kind: ClassVar[EventKind] = EventKind.REQUEST_SLA_WARNING
    request_id: int
    clock: str
    breaches_at: str

    def to_json(self) -> dict[str, Any]:
        return {"requestId": self.request_id, "clock": self.clock, "breachesAt": self.breaches_at}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RequestSlaWarning:
        return cls(int(data["requestId"]), str(data["clock"]), str(data["breachesAt"]))


@dataclass(frozen=True, slots=True)
class RequestSlaBreached:
    """The request's SLA clock ``clock`` reached its target at ``breached_at`` (ISO 8601,
    UTC) without being met: its assignee was told (INTERNAL, by the product; the actor is
    the requester)."""

    kind: ClassVar[EventKind] = EventKind.REQUEST_SLA_BREACHED
    request_id: int
    clock: str
    breached_at: str

    def to_json(self) -> dict[str, Any]:
        return {"requestId": self.request_id, "clock": self.clock, "breachedAt": self.breached_at}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RequestSlaBreached:
        return cls(int(data["requestId"]), str(data["clock"]), str(data["breachedAt"]))


@dataclass(frozen=True, slots=True)
class RequestReminded:
    """The requester was reminded that the request has waited for their answer
    (``NEEDS_INFO``) since ``waiting_since`` (ISO 8601, UTC), ``business_days`` working
    days now (by the product; the actor is who asked for the information)."""

    kind: ClassVar[EventKind] = EventKind.REQUEST_REMINDED
    request_id: int
    business_days: int
    waiting_since: str

    def to_json(self) -> dict[str, Any]:
        return {
            "requestId": self.request_id,
            "businessDays": self.business_days,
            "waitingSince": self.waiting_since,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RequestReminded:
        return cls(int(data["requestId"]), int(data["businessDays"]), str(data["waitingSince"]))


@dataclass(frozen=True, slots=True)
class BusinessDocumentPublished:
    """Business document ``document_id`` (``kind``, ``number``) became visible to its
    customer (pushed by the ERP or created by staff). Amounts are never in an event."""

    kind: ClassVar[EventKind] = EventKind.BUSINESS_DOCUMENT_PUBLISHED
    document_id: int
    document_kind: str
    number: str

    def to_json(self) -> dict[str, Any]:
        return {
            "documentId": self.document_id,
            "documentKind": self.document_kind,
            "number": self.number,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BusinessDocumentPublished:
        return cls(int(data["documentId"]), str(data["documentKind"]), str(data["number"]))


@dataclass(frozen=True, slots=True)
class BusinessDocumentStatusChanged:
    """The document's status went from ``from_status`` to ``to_status`` (statuses of
    models/business_documents.py); ``automatic`` when the product moved it (an invoice
    past its due date)."""

    kind: ClassVar[EventKind] = EventKind.BUSINESS_DOCUMENT_STATUS_CHANGED
    document_id: int
    from_status: str
    to_status: str
    automatic: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "documentId": self.document_id,
            "from": self.from_status,
            "to": self.to_status,
            "automatic": self.automatic,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BusinessDocumentStatusChanged:
        return cls(
            int(data["documentId"]),
            str(data["from"]),
            str(data["to"]),
            bool(data.get("automatic", False)),
        )


@dataclass(frozen=True, slots=True)
class QuoteAccepted:
    """A contact accepted the quote ``document_id``, with ``note`` (may be empty)."""

    kind: ClassVar[EventKind] = EventKind.QUOTE_ACCEPTED
    document_id: int
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"documentId": self.document_id, "note": self.note}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(int(data["documentId"]), str(data.get("note") or ""))


@dataclass(frozen=True, slots=True)
class QuoteDeclined(QuoteAccepted):
    """A contact declined the quote ``document_id``, with ``note`` (may be empty)."""

    kind: ClassVar[EventKind] = EventKind.QUOTE_DECLINED


@dataclass(frozen=True, slots=True)
class _LibraryChange:
    """What the events about one library document carry: the document, the version
    concerned (``version_id``, may be None), for a change of state the states before and
    after (``DocumentState`` values of models/library.py), for a reminder its
    ``ReminderKind``."""

    document_id: int
    version_id: int | None = None
    from_state: str | None = None
    to_state: str | None = None
    reminder: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "documentId": self.document_id,
            "versionId": self.version_id,
            "from": self.from_state,
            "to": self.to_state,
            "reminder": self.reminder,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        def text(key: str) -> str | None:
            value = data.get(key)
            return None if value is None else str(value)

        return cls(
            document_id=int(data["documentId"]),
            version_id=_optional_int(data.get("versionId")),
            from_state=text("from"),
            to_state=text("to"),
            reminder=text("reminder"),
        )


@dataclass(frozen=True, slots=True)
class LibraryDocumentPublished(_LibraryChange):
    """The document got a start of validity: its readers may see it from then on."""

    kind: ClassVar[EventKind] = EventKind.LIBRARY_DOCUMENT_PUBLISHED


@dataclass(frozen=True, slots=True)
class LibraryVersionAdded(_LibraryChange):
    """Version ``version_id`` became the document's current one (uploaded or restored)."""

    kind: ClassVar[EventKind] = EventKind.LIBRARY_VERSION_ADDED


@dataclass(frozen=True, slots=True)
class LibraryStateChanged(_LibraryChange):
    """The document's state went from ``from_state`` to ``to_state`` (by the product when
    a date was reached, or by staff changing its validity)."""

    kind: ClassVar[EventKind] = EventKind.LIBRARY_STATE_CHANGED


@dataclass(frozen=True, slots=True)
class LibraryDocumentSuperseded(_LibraryChange):
    """The document was replaced by another (``LibraryDocument.superseded_by``)."""

    kind: ClassVar[EventKind] = EventKind.LIBRARY_DOCUMENT_SUPERSEDED


@dataclass(frozen=True, slots=True)
class LibraryAcknowledgementRequired(_LibraryChange):
    """Each contact concerned must acknowledge version ``version_id``."""

    kind: ClassVar[EventKind] = EventKind.LIBRARY_ACK_REQUIRED


@dataclass(frozen=True, slots=True)
class LibraryAcknowledged(_LibraryChange):
    """The actor (a contact of the event's customer) acknowledged version ``version_id``."""

    kind: ClassVar[EventKind] = EventKind.LIBRARY_ACKNOWLEDGED


@dataclass(frozen=True, slots=True)
class LibraryDocumentMoved(_LibraryChange):
    """The document moved to another folder (or out of folders)."""

    kind: ClassVar[EventKind] = EventKind.LIBRARY_DOCUMENT_MOVED


@dataclass(frozen=True, slots=True)
class LibraryExpiryReminded(_LibraryChange):
    """The document's owner was reminded that its validity ends (``reminder``: 30 or 7 days
    before, or on the day; INTERNAL, by the product: the actor is the owner)."""

    kind: ClassVar[EventKind] = EventKind.LIBRARY_EXPIRY_REMINDED


LibraryPayload = (
    LibraryDocumentPublished
    | LibraryVersionAdded
    | LibraryStateChanged
    | LibraryDocumentSuperseded
    | LibraryAcknowledgementRequired
    | LibraryAcknowledged
    | LibraryDocumentMoved
    | LibraryExpiryReminded
)
"""What happened to a library document (events with a ``library_document``; the customer
is the document's, the acknowledging contact's, or None for a shared document)."""

LIBRARY_EVENT_KINDS = (
    EventKind.LIBRARY_DOCUMENT_PUBLISHED,
    EventKind.LIBRARY_VERSION_ADDED,
    EventKind.LIBRARY_STATE_CHANGED,
    EventKind.LIBRARY_DOCUMENT_SUPERSEDED,
    EventKind.LIBRARY_ACK_REQUIRED,
    EventKind.LIBRARY_ACKNOWLEDGED,
    EventKind.LIBRARY_DOCUMENT_MOVED,
    EventKind.LIBRARY_EXPIRY_REMINDED,
)

BusinessDocumentPayload = (
    BusinessDocumentPublished | BusinessDocumentStatusChanged | QuoteAccepted | QuoteDeclined
)
"""What happened to a business document (events with neither ``project`` nor ``request``;
the payload names the document)."""

BUSINESS_DOCUMENT_EVENT_KINDS = (
    EventKind.BUSINESS_DOCUMENT_PUBLISHED,
    EventKind.BUSINESS_DOCUMENT_STATUS_CHANGED,
    EventKind.QUOTE_ACCEPTED,
    EventKind.QUOTE_DECLINED,
)

RequestPayload = (
    RequestSubmitted
    | RequestStatusChanged
    | RequestAssigned
    | RequestReplied
    | RequestDocumentAdded
    | RequestDueDateChanged
    | RequestParticipantAdded
    | RequestSlaWarning
    | RequestSlaBreached
    | RequestReminded
)
"""What happened to a request (events with a ``request`` and no ``project``)."""

EventPayload = (
    MicropostPosted
    | MicropostEdited
    | ProjectStatusChanged
    | PageCreated
    | PageUpdated
    | RequestPayload
    | BusinessDocumentPayload
    | LibraryPayload
)
"""What happened, typed: one dataclass per :class:`EventKind` (its ``kind``)."""

PAYLOADS: dict[EventKind, type[EventPayload]] = {
    payload.kind: payload
    for payload in (
        MicropostPosted,
        MicropostEdited,
        ProjectStatusChanged,
        PageCreated,
        PageUpdated,
        RequestSubmitted,
        RequestStatusChanged,
        RequestAssigned,
        RequestReplied,
        RequestDocumentAdded,
        RequestDueDateChanged,
        RequestParticipantAdded,
        RequestSlaWarning,
        RequestSlaBreached,
        RequestReminded,
        BusinessDocumentPublished,
        BusinessDocumentStatusChanged,
        QuoteAccepted,
        QuoteDeclined,
        LibraryDocumentPublished,
        LibraryVersionAdded,
        LibraryStateChanged,
        LibraryDocumentSuperseded,
        LibraryAcknowledgementRequired,
        LibraryAcknowledged,
        LibraryDocumentMoved,
        LibraryExpiryReminded,
    )
}


def read_payload(kind: EventKind, data: dict[str, Any]) -> EventPayload:
    """The typed payload of an event of ``kind`` from its row's JSON. Raises KeyError or
    ValueError for JSON that is not a payload of that kind."""
    return PAYLOADS[kind].from_json(data)


class Event(TimestampedModel):
    """The durable record of one timeline change, whose id is the subscription cursor.

    Ids are handed out when the row is inserted, and concurrent transactions may commit in
    another order: an event is delivered only once every lower id is *resolved* (committed
    or rolled back), see :func:`resolved_through` and ``realtime/horizon.py``."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(EventKind, max_length=32)
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="events", null=True, on_delete=fields.CASCADE
    )
    customer_id: int | None
    """The customer it concerns; None only for an event of a shared library document
    (offered to several customers: its readers are worked out from the document)."""
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="events", null=True, on_delete=fields.CASCADE
    )
    project_id: int | None
    """The project of a timeline event; None for a request's (see :attr:`request`)."""
    request: fields.ForeignKeyNullableRelation[ServiceRequest] = fields.ForeignKeyField(
        "models.ServiceRequest", related_name="events", null=True, on_delete=fields.CASCADE
    )
    request_id: int | None
    """The request of a request event (which never has a project: a project's timeline
    shows none of them)."""
    library_document: fields.ForeignKeyNullableRelation[LibraryDocument] = fields.ForeignKeyField(
        "models.LibraryDocument", related_name="events", null=True, on_delete=fields.CASCADE
    )
    library_document_id: int | None
    """The library document of a library event (never with a project or a request)."""
    actor: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    actor_id: int
    visibility = fields.CharEnumField(Visibility, max_length=10, default=Visibility.SHARED)
    micropost_id = fields.IntField(null=True)
    page_id = fields.IntField(null=True)
    payload: dict[str, Any] = fields.JSONField(default=dict)
    """The JSON form of :attr:`details`; written only through an :data:`EventPayload`."""

    class Meta:
        table = "events"
        indexes = (("project_id", "id"), ("request_id", "id"), ("library_document_id", "id"))

    @property
    def details(self) -> EventPayload:
        """What happened, typed by the event's kind (read from :attr:`payload`)."""
        return read_payload(self.kind, self.payload)


class EventLogHorizon(TimestampedModel):
    """How far back the event log reaches: events with smaller ids were pruned, so a
    cursor before ``oldest_kept_id`` can no longer be replayed. One row, id 1."""

    id = fields.IntField(primary_key=True)
    oldest_kept_id = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "event_log_horizon"


# The shared advisory lock every transaction writing an event holds on PostgreSQL from
# before its id is drawn until it ends (two int4 keys: 1163284052 is "EVNT", then 1).
_TAKE_WRITER_LOCK = "SELECT pg_advisory_xact_lock_shared(1163284052, 1)"
_WRITERS = (
    "SELECT virtualtransaction FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND classid = 1163284052 AND objid = 1 AND objsubid = 2"
)
RESOLVE_POLL = 0.02
RESOLVE_POLL_MAX = 0.5
"""Seconds between two looks at the writers still open while :func:`resolved_through`
waits for them: RESOLVE_POLL at first, doubling up to RESOLVE_POLL_MAX."""


def _on_postgres() -> bool:
    return str(connections.get("default").capabilities.dialect) == "postgres"


async def mark_event_writer() -> None:
    """Call inside a transaction before inserting an Event: on PostgreSQL it takes the
    shared event-writer lock (never waits; released when the transaction ends), which is how
    :func:`resolved_through` knows who may still commit a lower id. SQLite has one writer
    at a time, so nothing is needed there."""
    if _on_postgres():
        await connections.get("default").execute_query(_TAKE_WRITER_LOCK)


_sequence: list[str] = []


async def resolved_through() -> int:
    """The highest event id ``r`` such that every id up to ``r`` is resolved: committed (and
    visible to any read from now on) or rolled back, so that no event with an id <= r can
    appear any more. Reads committed data only; call outside a transaction.

    On PostgreSQL: the last id drawn from the sequence, once every transaction that held
    the writer lock when it was read has ended (waits for them, polling). On SQLite
    writers are serialised and ids are taken in commit order, so it is the highest
    committed id.
    """
    client = connections.get("default")
    if not _on_postgres():
        _, rows = await client.execute_query("SELECT COALESCE(MAX(id), 0) AS top FROM events")
        return int(rows[0]["top"])
    if not _sequence:
        _, rows = await client.execute_query(
            "SELECT pg_get_serial_sequence('events', 'id') AS name"
        )
        _sequence.append(str(rows[0]["name"]))
    _, rows = await client.execute_query(
        f"SELECT last_value, is_called FROM {_sequence[0]}"  # noqa: S608 (a catalogue name)
    )
    drawn = int(rows[0]["last_value"]) - (0 if rows[0]["is_called"] else 1)
    # every writer of an id <= drawn took the lock before drawing it: wait for those open now
    _, rows = await client.execute_query(_WRITERS)
    open_writers = {row["virtualtransaction"] for row in rows}
    pause = RESOLVE_POLL
    while open_writers:
        await asyncio.sleep(pause)
        pause = min(pause * 2, RESOLVE_POLL_MAX)  # a long transaction is asked about less
        _, rows = await client.execute_query(_WRITERS)
        open_writers &= {row["virtualtransaction"] for row in rows}
    return drawn
