"""Suspicious activity: the alerts the rules of domain/security_rules.py raise, and the
networks each account and access token was seen from (to tell a new one)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields

from models._base import TimestampedModel

if TYPE_CHECKING:
    from models.customers import Customer
    from models.users import User


class SecurityRule(StrEnum):
    NEW_NETWORK_SIGN_IN = "NEW_NETWORK_SIGN_IN"  # two-factor off, a network not seen lately
    FAILED_SIGN_INS = "FAILED_SIGN_INS"  # many failures from one address, any accounts
    CROSS_TENANT_PROBING = "CROSS_TENANT_PROBING"  # NOT_FOUND for IDs of another tenant
    TOKEN_NEW_ADDRESS = "TOKEN_NEW_ADDRESS"  # noqa: S105 (a rule, an access token used anew)
    DOWNLOAD_BURST = "DOWNLOAD_BURST"  # many downloads by one user in a short while


class SecurityAlertState(StrEnum):
    OPEN = "OPEN"
    ACKNOWLEDGED = "ACKNOWLEDGED"  # someone looks into it
    RESOLVED = "RESOLVED"  # done with; a new trigger opens a new alert


class SecurityAlert(TimestampedModel):
    """One rule triggered for one subject (an account, or a client address for failed
    sign-ins across accounts). Triggers of the same rule and subject while the alert is not
    resolved and its last one is recent coalesce into it (``count``, ``last_seen_at``)."""

    id = fields.BigIntField(primary_key=True)
    rule = fields.CharEnumField(SecurityRule, max_length=32)
    subject_key = fields.CharField(
        max_length=100, description="What triggers coalesce by: the rule's subject"
    )
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    user_id: int | None
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name=False, null=True, on_delete=fields.CASCADE
    )
    customer_id: int | None
    """The customer of the account concerned (its lead contacts see the alert); None for
    staff and for an address."""
    address = fields.CharField(max_length=64, default="", description="The client address")
    details: dict[str, Any] = fields.JSONField(default=dict)
    first_seen_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    count = fields.IntField(default=1, description="Triggers coalesced into this alert")
    state = fields.CharEnumField(SecurityAlertState, max_length=12, default=SecurityAlertState.OPEN)
    acknowledged_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    acknowledged_by_id: int | None
    acknowledged_at = fields.DatetimeField(null=True)
    resolved_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    resolved_by_id: int | None
    resolved_at = fields.DatetimeField(null=True)
    resolution_note = fields.TextField(default="")

    class Meta:
        table = "security_alerts"
        indexes = (("rule", "subject_key", "state"), ("customer_id", "id"), ("state", "id"))


class SeenNetwork(TimestampedModel):
    """A network an account signed in from (``kind`` ``sign_in``) or an access token was
    used from (``token``): only a keyed hash of it, and when it was last seen."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=16)
    subject_id = fields.IntField(description="The user's or the access token's ID")
    network_hash = fields.CharField(max_length=64)
    last_seen_at = fields.DatetimeField()

    class Meta:
        table = "security_seen_networks"
        unique_together = (("kind", "subject_id", "network_hash"),)
