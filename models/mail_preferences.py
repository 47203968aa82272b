"""What a person wants to hear of by mail, and the notifications waiting to be mailed.

* :class:`MailPreference`: one row per user and :class:`MailCategory` once the user chose
  something or was first mailed in that category (until then the defaults of
  ``domain.mail_schedule.DEFAULTS`` hold); it also holds the category's opaque
  unsubscribe token.
* :class:`MailQuietHours`: the user's quiet hours (local time, in ``User.time_zone``).
* :class:`PendingMail`: a notification recorded while its user was not active, waiting for
  its batch or digest.
* :class:`UsedReplyToken`: reply addresses already used (a replayed reply is refused).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from models._base import TimestampedModel

if TYPE_CHECKING:
    from models.users import User


class MailCategory(StrEnum):
    MENTIONS_AND_REPLIES = "MENTIONS_AND_REPLIES"
    WATCHED = "WATCHED"
    REQUESTS = "REQUESTS"
    ACCOUNT = "ACCOUNT"


class MailDelivery(StrEnum):
    IMMEDIATE = "IMMEDIATE"
    """Batched: one mail at the end of a window of ``window_minutes`` after the first item."""
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    OFF = "OFF"


class MailPreference(TimestampedModel):
    """How one user hears of one category by mail."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="mail_preferences", on_delete=fields.CASCADE
    )
    user_id: int
    category = fields.CharEnumField(MailCategory, max_length=24)
    delivery = fields.CharEnumField(MailDelivery, max_length=12)
    window_minutes = fields.SmallIntField(default=10)
    """IMMEDIATE: minutes from the first waiting item to the mail (2 to 60)."""
    digest_hour = fields.SmallIntField(default=8)
    """DAILY and WEEKLY: the local hour (0 to 23) of the digest."""
    digest_weekday = fields.SmallIntField(default=0)
    """WEEKLY: the local weekday of the digest (0 Monday to 6 Sunday)."""
    unsubscribe_token = fields.CharField(max_length=64, unique=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "mail_preferences"
        unique_together = (("user", "category"),)


class MailQuietHours(TimestampedModel):
    """Local hours in which no notification mail is sent: from ``start_hour`` (included)
    to ``end_hour`` (excluded), across midnight when ``end_hour < start_hour``."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="mail_quiet_hours", on_delete=fields.CASCADE
    )
    user_id: int
    start_hour = fields.SmallIntField()
    end_hour = fields.SmallIntField()

    class Meta:
        table = "mail_quiet_hours"


class PendingMail(TimestampedModel):
    """A notification waiting for its user's batch or digest of ``category``. The ids are
    plain columns, not foreign keys: what waits is looked up when the batch is due, and a
    notification, post or user gone by then is simply not found (the batch drops them)."""

    id = fields.BigIntField(primary_key=True)
    notification_id = fields.BigIntField(unique=True)
    user_id = fields.IntField()
    category = fields.CharEnumField(MailCategory, max_length=24)

    class Meta:
        table = "pending_mails"
        indexes = (("user_id", "category"),)


class UsedReplyToken(TimestampedModel):
    """A reply address that has been used (its token's digest): each works once."""

    id = fields.BigIntField(primary_key=True)
    digest = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: int
    message_id = fields.CharField(max_length=255, default="")

    class Meta:
        table = "used_reply_tokens"
