from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields

from models._base import TimestampedModel

if TYPE_CHECKING:
    from models.users import User


class PersistedDocument(TimestampedModel):
    """A GraphQL document an administrator registered.

    A server that runs only registered documents (``EXTRANET_PERSISTED_QUERIES=registered``)
    runs these and those of clients/operations."""

    id = fields.IntField(primary_key=True)
    sha256 = fields.CharField(max_length=64, unique=True, description="SHA-256 of the text")
    normalized_sha256 = fields.CharField(
        max_length=64, db_index=True, description="SHA-256 of the text as graphql-core prints it"
    )
    query = fields.TextField()
    operation_name = fields.CharField(max_length=200, null=True)
    registered_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    registered_by_id: int | None

    class Meta:
        table = "persisted_documents"
