"""Answers of mutations sent with an ``Idempotency-Key`` header, kept for 24 hours."""

from __future__ import annotations

from tortoise import fields

from models._base import TimestampedModel


class IdempotentRequest(TimestampedModel):
    """The first request with a key of one caller: a hash of its body and, once it has
    run, its answer (status, media type and body), replayed to repeats."""

    id = fields.BigIntField(primary_key=True)
    caller = fields.CharField(max_length=64)
    key = fields.CharField(max_length=255)
    request_hash = fields.CharField(max_length=64)
    status = fields.IntField(null=True, description="Null while the first request runs")
    media_type = fields.CharField(max_length=100, default="")
    body = fields.TextField(default="")
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "idempotent_requests"
        unique_together = (("caller", "key"),)
