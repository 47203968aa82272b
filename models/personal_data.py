from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from models._base import TimestampedModel

if TYPE_CHECKING:
    from models.users import User


class ExportStatus(StrEnum):
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"


class PersonalDataExport(TimestampedModel):
    """A ZIP of everything about one user, made in the background (actions/personal_data.py)
    and kept in the blob storage under ``content_key`` until ``expires_at``."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: int
    requested_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    requested_by_id: int
    status = fields.CharEnumField(ExportStatus, max_length=10, default=ExportStatus.PENDING)
    content_key = fields.CharField(max_length=64, null=True, description="SHA-256 of the ZIP")
    size = fields.BigIntField(default=0, description="Bytes")
    ready_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "personal_data_exports"
