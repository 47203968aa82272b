from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields

from models._base import TimestampedModel, Visibility

if TYPE_CHECKING:
    from models.customers import Customer
    from models.projects import Project
    from models.users import User


class EventKind(StrEnum):
    MICROPOST_POSTED = "MICROPOST_POSTED"
    MICROPOST_EDITED = "MICROPOST_EDITED"
    PROJECT_STATUS_CHANGED = "PROJECT_STATUS_CHANGED"
    PAGE_CREATED = "PAGE_CREATED"
    PAGE_UPDATED = "PAGE_UPDATED"


class Event(TimestampedModel):
    """The durable record of one timeline change, whose id is the subscription cursor."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(EventKind, max_length=32)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="events", on_delete=fields.CASCADE
    )
    customer_id: int
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="events", on_delete=fields.CASCADE
    )
    project_id: int
    actor: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    actor_id: int
    visibility = fields.CharEnumField(Visibility, max_length=10, default=Visibility.SHARED)
    micropost_id = fields.IntField(null=True)
    page_id = fields.IntField(null=True)
    payload: dict[str, Any] = fields.JSONField(default=dict)

    class Meta:
        table = "events"
        indexes = (("project_id", "id"),)


class EventLogHorizon(TimestampedModel):
    """How far back the event log reaches: events with smaller ids were pruned, so a
    cursor before ``oldest_kept_id`` can no longer be replayed. One row, id 1."""

    id = fields.IntField(primary_key=True)
    oldest_kept_id = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "event_log_horizon"
