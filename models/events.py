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
