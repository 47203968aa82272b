from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from models._base import TimestampedModel

if TYPE_CHECKING:
    from models.events import Event
    from models.users import User


class NotificationReason(StrEnum):
    MENTIONED = "MENTIONED"
    REPLIED = "REPLIED"
    PARTICIPATING = "PARTICIPATING"
    WATCHING = "WATCHING"


class Notification(TimestampedModel):
    """What one event produced for one user, with read state: the inbox that replaces email."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="notifications", on_delete=fields.CASCADE
    )
    user_id: int
    event: fields.ForeignKeyRelation[Event] = fields.ForeignKeyField(
        "models.Event", related_name="notifications", on_delete=fields.CASCADE
    )
    event_id: int
    reason = fields.CharEnumField(NotificationReason, max_length=16)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notifications"
        unique_together = (("user", "event"),)
        indexes = (("user_id", "read_at"),)
