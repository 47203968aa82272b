"""Which object an external system's ID names (CRM/ERP sync by external ID)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models._base import TimestampedModel


class ExternalKind(StrEnum):
    CUSTOMER = "CUSTOMER"
    PROJECT = "PROJECT"
    USER = "USER"


class ExternalId(TimestampedModel):
    """``external_id`` of the system ``source`` names the ``kind`` object ``object_id``:
    one object per (source, kind, external ID), and one external ID per source and object."""

    id = fields.IntField(primary_key=True)
    source = fields.CharField(max_length=64)
    kind = fields.CharEnumField(ExternalKind, max_length=16)
    external_id = fields.CharField(max_length=200)
    object_id = fields.IntField()

    class Meta:
        table = "external_ids"
        unique_together = (("source", "kind", "external_id"), ("source", "kind", "object_id"))
