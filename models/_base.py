from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    ADMIN = "ADMIN"
    STAFF = "STAFF"
    CUSTOMER_ADMIN = "CUSTOMER_ADMIN"
    CUSTOMER_MEMBER = "CUSTOMER_MEMBER"

    @property
    def is_staff(self) -> bool:
        return self in (Role.ADMIN, Role.STAFF)


class Visibility(StrEnum):
    SHARED = "SHARED"
    INTERNAL = "INTERNAL"


class TimestampedModel(Model):
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        abstract = True
