from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from tortoise import fields

from models._base import Role, TimestampedModel

if TYPE_CHECKING:
    from models.customers import Customer


def new_pseudonym() -> str:
    """A random pseudonymous ID for a user (32 hex digits), drawn once and never derived
    from anything about them: what the audit trail names them by."""
    return secrets.token_hex(16)


class User(TimestampedModel):
    """A person who signs in: provider staff (no customer) or a customer's contact."""

    id = fields.IntField(primary_key=True)
    pseudonym = fields.CharField(
        max_length=32,
        default=new_pseudonym,
        db_default="",
        db_index=True,
        description="Random ID that audit entries name the user by",
    )
    email = fields.CharField(max_length=254, unique=True)
    # unique within a customer's contacts and the provider's staff (see accounts.unique_handle)
    handle = fields.CharField(max_length=40, db_index=True)
    name = fields.CharField(max_length=200)
    role = fields.CharEnumField(Role, max_length=20)
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="contacts", null=True, on_delete=fields.RESTRICT
    )
    customer_id: int | None
    password_hash = fields.CharField(max_length=255, null=True)
    is_active = fields.BooleanField(default=True)
    last_login_at = fields.DatetimeField(null=True)
    totp_secret = fields.CharField(
        max_length=64, null=True, description="Set while two-factor sign-in is on"
    )
    totp_pending_secret = fields.CharField(
        max_length=64, null=True, description="Enrolled, not confirmed yet"
    )
    totp_enabled_at = fields.DatetimeField(null=True)
    totp_last_step = fields.BigIntField(
        null=True, description="The time step of the last code accepted (no replays)"
    )
    time_zone = fields.CharField(
        max_length=64, default="UTC", db_default="UTC", description="An IANA time zone name"
    )
    locale = fields.CharField(
        max_length=35, default="en", db_default="en", description="A BCP 47 language tag"
    )
    deactivated_at = fields.DatetimeField(
        null=True, description="When it was deactivated (null while it may sign in)"
    )
    erased_at = fields.DatetimeField(
        null=True, description="When its personal data was erased (a tombstone since)"
    )
    tombstone_number = fields.IntField(
        null=True, description="Its number among the erased accounts of its customer or staff"
    )

    class Meta:
        table = "users"
        unique_together = (("customer", "handle"),)

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class RefreshToken(TimestampedModel):
    """One link in a rotating refresh-token family, only a hash of the token is stored."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    user_id: int
    token_hash = fields.CharField(max_length=64, unique=True)
    family = fields.CharField(max_length=32, db_index=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "refresh_tokens"


class RecoveryCode(TimestampedModel):
    """A single-use two-factor recovery code, kept only as a hash."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="recovery_codes", on_delete=fields.CASCADE
    )
    user_id: int
    code_hash = fields.CharField(max_length=64, unique=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "recovery_codes"


class SiteSetting(TimestampedModel):
    """A setting that administrators change at run time (shared by every process)."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=64, unique=True)
    value: dict[str, object] = fields.JSONField(default=dict)

    class Meta:
        table = "site_settings"


class Invitation(TimestampedModel):
    """An invitation of an email address to join a customer as a contact. It is only a
    pending row: the account is created when it is accepted with the token (whose hash is
    kept), and never for an address that has an account already."""

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="invitations", null=True, on_delete=fields.CASCADE
    )
    customer_id: int | None  # null only in invitations made before they were pending rows
    email = fields.CharField(max_length=254, default="", db_default="", db_index=True)
    name = fields.CharField(max_length=200, default="", db_default="")
    role = fields.CharEnumField(Role, max_length=20, null=True)
    project_ids: list[int] = fields.JSONField(default=list, db_default=[])
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="invitations", null=True, on_delete=fields.CASCADE
    )
    user_id: int | None  # the account it became (made at invitation time in older rows)
    invited_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    invited_by_id: int
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True, description="When it was last mailed")
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "invitations"


class PasswordResetToken(TimestampedModel):
    """A single-use, short-lived link to set a new password, mailed to the account's
    address; only a hash of its token is kept."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: int
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "password_reset_tokens"


class KnownSignInAddress(TimestampedModel):
    """A network an account has signed in from, kept as a keyed hash of the address (its
    /64 for IPv6), never the address: a sign-in from an unknown one is mailed to the
    account's owner."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: int
    address_hash = fields.CharField(max_length=64)
    last_seen_at = fields.DatetimeField()

    class Meta:
        table = "known_sign_in_addresses"
        unique_together = (("user", "address_hash"),)


class AuditEntry(TimestampedModel):
    """Who did what sensitive thing when. Append-only, hash-chained (domain/audit_chain.py):
    ``entry_hash`` is the SHA-256 of the entry's pseudonymous content (sequence, time,
    action, ``actor_ref``, ``subject_ref``, target, details) and ``previous_hash``.
    ``actor_id``, ``subject_id`` and ``client_address`` are outside the hashed content."""

    id = fields.BigIntField(primary_key=True)
    sequence = fields.BigIntField(null=True, unique=True, description="Its place in the chain")
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    actor_id: int | None
    actor_ref = fields.CharField(max_length=32, default="", db_default="")
    subject: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    subject_id: int | None
    subject_ref = fields.CharField(max_length=32, default="", db_default="", db_index=True)
    action = fields.CharField(max_length=64, db_index=True)
    target = fields.CharField(max_length=200, default="")
    client_address = fields.CharField(max_length=64, default="")
    details: dict[str, object] = fields.JSONField(default=dict)
    previous_hash = fields.CharField(max_length=64, default="", db_default="")
    entry_hash = fields.CharField(max_length=64, default="", db_default="")

    class Meta:
        table = "audit_entries"
