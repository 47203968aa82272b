"""Webhook endpoints (consumers of the event log over HTTP) and their delivery log."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from models._base import TimestampedModel

if TYPE_CHECKING:
    from models.customers import Customer
    from models.projects import Project
    from models.users import User


class WebhookState(StrEnum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"  # the retry schedule ran out: probed until it answers, then ACTIVE
    DISABLED = "DISABLED"  # paused too long: nothing is sent until it is enabled again


class WebhookDeliveryStatus(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class WebhookEndpoint(TimestampedModel):
    """An HTTP endpoint that receives the events its ``owner`` may read, in log order.

    ``cursor``: the id of the last event handled (delivered, or skipped as not wanted or not
    readable). ``secret`` (``whsec_`` + base64) signs deliveries; during a rotation
    ``previous_secret`` signs them too until ``previous_secret_expires_at``.
    ``consecutive_failures`` counts the failed attempts at the pending event;
    ``next_attempt_at`` is when the next one is due (a retry or a probe)."""

    id = fields.IntField(primary_key=True)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="webhook_endpoints", on_delete=fields.CASCADE
    )
    owner_id: int
    url = fields.CharField(max_length=2000)
    description = fields.CharField(max_length=200, default="")
    event_types: list[str] = fields.JSONField(default=list)
    """The event kinds wanted; empty: every kind."""
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name=False, null=True, on_delete=fields.CASCADE
    )
    customer_id: int | None
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name=False, null=True, on_delete=fields.CASCADE
    )
    project_id: int | None
    secret = fields.CharField(max_length=100)
    previous_secret = fields.CharField(max_length=100, null=True)
    previous_secret_expires_at = fields.DatetimeField(null=True)
    cursor = fields.BigIntField(default=0)
    state = fields.CharEnumField(WebhookState, max_length=10, default=WebhookState.ACTIVE)
    state_since = fields.DatetimeField(null=True)
    state_reason = fields.CharField(max_length=500, default="")
    consecutive_failures = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "webhook_endpoints"


class WebhookDelivery(TimestampedModel):
    """One attempt to deliver event ``event_id`` to an endpoint: ``webhook_id`` is the same
    on every attempt of that event at that endpoint; ``response_body`` keeps the first KiB."""

    id = fields.BigIntField(primary_key=True)
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    endpoint_id: int
    event_id = fields.BigIntField()
    event_type = fields.CharField(max_length=32)
    webhook_id = fields.CharField(max_length=64)
    attempt = fields.IntField()
    manual = fields.BooleanField(default=False)
    status = fields.CharEnumField(WebhookDeliveryStatus, max_length=10)
    duration_ms = fields.IntField(default=0)
    response_code = fields.IntField(null=True)
    response_body = fields.TextField(default="")
    error = fields.TextField(default="")

    class Meta:
        table = "webhook_deliveries"
        indexes = (("endpoint_id", "id"),)

    def __str__(self) -> str:
        return f"{self.webhook_id} #{self.attempt} {self.status}"
