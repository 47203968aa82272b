"""Credentials for machines: personal access tokens and service accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields

from models._base import TimestampedModel

if TYPE_CHECKING:
    from models.users import User


class ServiceAccount(TimestampedModel):
    """An integration's identity. It signs in only with its access tokens: its ``user`` row
    (no password, an address under ``service-accounts.invalid``) carries its role and, for
    a customer-confined account, the customer; so every rule that holds for a person of
    that role holds for it. Deactivating it deactivates that row."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="service_account", on_delete=fields.CASCADE
    )
    user_id: int
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    deactivated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "service_accounts"


class AccessToken(TimestampedModel):
    """A long-lived bearer token of a user (personal) or of a service account's user, with
    scopes (``projects:read``...). Only the SHA-256 of the token is kept; ``prefix`` is its
    first characters, to recognise it in lists."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="access_tokens", on_delete=fields.CASCADE
    )
    user_id: int
    name = fields.CharField(max_length=200)
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=24)
    scopes: list[str] = fields.JSONField(default=list)
    expires_at = fields.DatetimeField()
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    last_used_at = fields.DatetimeField(null=True)
    last_used_address = fields.CharField(max_length=64, default="")
    addresses: list[str] = fields.JSONField(
        default=list, description="Addresses it was used from (the latest, at most 20)"
    )
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "access_tokens"
