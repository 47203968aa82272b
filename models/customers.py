from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields

from models._base import TimestampedModel

if TYPE_CHECKING:
    from models.users import User


class Customer(TimestampedModel):
    """A B2B customer of the provider: the tenant boundary for external users."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=64, unique=True)
    internal_notes = fields.TextField(default="")
    annual_budget = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    mfa_required = fields.BooleanField(
        default=False, description="Its contacts must sign in with a second factor"
    )

    class Meta:
        table = "customers"


class CustomerEmailDomain(TimestampedModel):
    """An email domain of a customer's own (set by administrators): its lead contacts may
    invite addresses of these domains only. A domain belongs to one customer at most."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="email_domains", on_delete=fields.CASCADE
    )
    customer_id: int
    domain = fields.CharField(max_length=253, unique=True)

    class Meta:
        table = "customer_email_domains"


class AccountTeamMembership(TimestampedModel):
    """A staff member on a customer's account team."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="account_team_memberships", on_delete=fields.CASCADE
    )
    customer_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="account_team_memberships", on_delete=fields.CASCADE
    )
    user_id: int

    class Meta:
        table = "account_team_memberships"
        unique_together = (("customer", "user"),)
