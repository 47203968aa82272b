from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields

from models._base import TimestampedModel

if TYPE_CHECKING:
    from models.pages import Page
    from models.users import User


class Attachment(TimestampedModel):
    """One version of a file attached to a concept page (a quote, an order, a spec)."""

    id = fields.IntField(primary_key=True)
    page: fields.ForeignKeyRelation[Page] = fields.ForeignKeyField(
        "models.Page", related_name="attachments", on_delete=fields.CASCADE
    )
    page_id: int
    name = fields.CharField(max_length=200)
    version = fields.IntField()
    content_type = fields.CharField(max_length=100)
    size = fields.BigIntField()
    content_key = fields.CharField(max_length=64, description="SHA-256 of the content")
    uploaded_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    uploaded_by_id: int

    class Meta:
        table = "attachments"
        unique_together = (("page", "name", "version"),)
        indexes = (("uploaded_by_id", "created_at"),)  # the uploader's quota and rate
