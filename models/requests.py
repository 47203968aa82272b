"""Requests: what a customer's contact asks of the provider through a request type's form.

A :class:`RequestType` holds its form (``{"schema": JSON Schema of the answers, "ui":
hints}``, see domain/forms.py), its lifecycle (the allowed transitions and who may make
each) and its SLA policies; a :class:`ServiceRequest` is one submission, numbered per
customer (``ACME-42``, the number drawn from :class:`RequestCounter` in the submitting
transaction), with its participants, conversation, expected documents and the recorded
history of its status (:class:`RequestStatusChange`, from which its SLA is computed).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields

from models._base import TimestampedModel, Visibility

if TYPE_CHECKING:
    from models.customers import Customer
    from models.projects import Project
    from models.users import User


class RequestStatus(StrEnum):
    RECEIVED = "RECEIVED"
    IN_PROGRESS = "IN_PROGRESS"
    NEEDS_INFO = "NEEDS_INFO"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    RESOLVED = "RESOLVED"
    WITHDRAWN = "WITHDRAWN"


class RequestActor(StrEnum):
    """Who may make a transition of a lifecycle."""

    STAFF = "STAFF"
    REQUESTER = "REQUESTER"
    LEAD_CONTACT = "LEAD_CONTACT"


class BusinessCalendar(TimestampedModel):
    """Working time: ``definition`` is the JSON form of domain/business_hours.py's calendar
    (time zone, working days and hours, holidays)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, unique=True)
    definition: dict[str, Any] = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "business_calendars"


class RequestType(TimestampedModel):
    """A kind of request that administrators define: its form, lifecycle, reopening window
    and default assignee (a staff user; none: the customer's account team)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, unique=True)
    description = fields.TextField(default="")
    form: dict[str, Any] = fields.JSONField(default=dict)
    lifecycle: list[dict[str, Any]] = fields.JSONField(default=list)
    """``[{"from": status, "to": status, "by": [actor, ...]}, ...]``."""
    reopen_days = fields.IntField(default=14)
    default_assignee: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    default_assignee_id: int | None
    offered_to_all = fields.BooleanField(default=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "request_types"


class RequestTypeOffer(TimestampedModel):
    """A customer a request type not offered to all is offered to."""

    id = fields.IntField(primary_key=True)
    request_type: fields.ForeignKeyRelation[RequestType] = fields.ForeignKeyField(
        "models.RequestType", related_name="offers", on_delete=fields.CASCADE
    )
    request_type_id: int
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name=False, on_delete=fields.CASCADE
    )
    customer_id: int

    class Meta:
        table = "request_type_offers"
        unique_together = (("request_type", "customer"),)


class SlaPolicy(TimestampedModel):
    """Targets of a request type (for one customer when ``customer`` is set, overriding the
    type's general policy), in business minutes of ``calendar``."""

    id = fields.IntField(primary_key=True)
    request_type: fields.ForeignKeyRelation[RequestType] = fields.ForeignKeyField(
        "models.RequestType", related_name="sla_policies", on_delete=fields.CASCADE
    )
    request_type_id: int
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name=False, null=True, on_delete=fields.CASCADE
    )
    customer_id: int | None
    calendar: fields.ForeignKeyRelation[BusinessCalendar] = fields.ForeignKeyField(
        "models.BusinessCalendar", related_name="sla_policies", on_delete=fields.RESTRICT
    )
    calendar_id: int
    first_response_minutes = fields.IntField(null=True)
    resolution_minutes = fields.IntField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "sla_policies"
        unique_together = (("request_type", "customer"),)


class RequestCounter(TimestampedModel):
    """The last request number given to a customer: drawn by an UPDATE in the submitting
    transaction, so concurrent submissions get distinct numbers."""

    id = fields.IntField(primary_key=True)
    customer: fields.OneToOneRelation[Customer] = fields.OneToOneField(
        "models.Customer", related_name=False, on_delete=fields.CASCADE
    )
    customer_id: int
    last_number = fields.IntField(default=0)

    class Meta:
        table = "request_counters"


class ServiceRequest(TimestampedModel):
    """One request of a customer's contact (``Request`` in the API)."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="requests", on_delete=fields.RESTRICT
    )
    customer_id: int
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="requests", null=True, on_delete=fields.SET_NULL
    )
    project_id: int | None
    request_type: fields.ForeignKeyRelation[RequestType] = fields.ForeignKeyField(
        "models.RequestType", related_name="requests", on_delete=fields.RESTRICT
    )
    request_type_id: int
    number = fields.IntField(description="Per customer, from 1")
    reference = fields.CharField(max_length=80, unique=True, description="ACME-42")
    title = fields.CharField(max_length=200)
    requester: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    requester_id: int
    assignee: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    assignee_id: int | None
    status = fields.CharEnumField(RequestStatus, max_length=20, default=RequestStatus.RECEIVED)
    due_at = fields.DatetimeField(null=True)
    next_step = fields.TextField(default="")
    answers: dict[str, Any] = fields.JSONField(default=dict)
    first_response_at = fields.DatetimeField(null=True)
    resolved_at = fields.DatetimeField(null=True)
    closed = fields.BooleanField(default=False, description="Closed for good: not reopenable")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "service_requests"
        unique_together = (("customer", "number"),)
        indexes = (("customer_id", "status"),)


class RequestParticipant(TimestampedModel):
    """A contact of the request's customer who sees and follows it like its requester."""

    id = fields.IntField(primary_key=True)
    request: fields.ForeignKeyRelation[ServiceRequest] = fields.ForeignKeyField(
        "models.ServiceRequest", related_name="participants", on_delete=fields.CASCADE
    )
    request_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: int

    class Meta:
        table = "request_participants"
        unique_together = (("request", "user"),)


class RequestMessage(TimestampedModel):
    """A reply in a request's conversation (INTERNAL ones are staff notes)."""

    id = fields.IntField(primary_key=True)
    request: fields.ForeignKeyRelation[ServiceRequest] = fields.ForeignKeyField(
        "models.ServiceRequest", related_name="messages", on_delete=fields.CASCADE
    )
    request_id: int
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    author_id: int
    body = fields.TextField()
    body_html = fields.TextField(default="")
    visibility = fields.CharEnumField(Visibility, max_length=10, default=Visibility.SHARED)

    class Meta:
        table = "request_messages"


class RequestStatusChange(TimestampedModel):
    """One recorded status of a request: from (None at submission), to, who, why, when.
    The SLA is computed from these rows."""

    id = fields.IntField(primary_key=True)
    request: fields.ForeignKeyRelation[ServiceRequest] = fields.ForeignKeyField(
        "models.ServiceRequest", related_name="status_changes", on_delete=fields.CASCADE
    )
    request_id: int
    from_status = fields.CharEnumField(RequestStatus, max_length=20, null=True)
    to_status = fields.CharEnumField(RequestStatus, max_length=20)
    actor: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    actor_id: int
    reason = fields.TextField(default="")

    class Meta:
        table = "request_status_changes"


class ExpectedDocument(TimestampedModel):
    """An item of a request's checklist: a document the provider waits for."""

    id = fields.IntField(primary_key=True)
    request: fields.ForeignKeyRelation[ServiceRequest] = fields.ForeignKeyField(
        "models.ServiceRequest", related_name="expected_documents", on_delete=fields.CASCADE
    )
    request_id: int
    name = fields.CharField(max_length=200)
    required = fields.BooleanField(default=True)
    received_at = fields.DatetimeField(null=True)

    class Meta:
        table = "request_expected_documents"


class RequestAttachment(TimestampedModel):
    """A file uploaded for a request of a customer (its content in the attachments' blob
    storage): pending (no ``request``) until a submission or a reply uses it, then linked to
    the request, and to the message and expected document it came with."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name=False, on_delete=fields.CASCADE
    )
    customer_id: int
    request: fields.ForeignKeyNullableRelation[ServiceRequest] = fields.ForeignKeyField(
        "models.ServiceRequest", related_name="attachments", null=True, on_delete=fields.CASCADE
    )
    request_id: int | None
    message: fields.ForeignKeyNullableRelation[RequestMessage] = fields.ForeignKeyField(
        "models.RequestMessage", related_name="attachments", null=True, on_delete=fields.SET_NULL
    )
    message_id: int | None
    expected_document: fields.ForeignKeyNullableRelation[ExpectedDocument] = fields.ForeignKeyField(
        "models.ExpectedDocument",
        related_name="attachments",
        null=True,
        on_delete=fields.SET_NULL,
    )
    expected_document_id: int | None
    name = fields.CharField(max_length=200)
    content_type = fields.CharField(max_length=100)
    size = fields.BigIntField()
    content_key = fields.CharField(max_length=64, description="SHA-256 of the content")
    uploaded_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    uploaded_by_id: int

    class Meta:
        table = "request_attachments"
