from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields

from models._base import TimestampedModel

if TYPE_CHECKING:
    from models.users import User


class MailStatus(StrEnum):
    QUEUED = "QUEUED"  # waiting to be sent (again, after a temporary failure)
    SENDING = "SENDING"  # claimed by a sender; see actions/mail.py for one found after a crash
    SENT = "SENT"  # the mail server took it, or it is in the Maildir
    FAILED = "FAILED"  # refused for good, or out of attempts; last_error says why


class OutgoingMail(TimestampedModel):
    """A mail recorded before it is sent (the outbox): what to render, for whom, and how
    sending it went. Rendered only when sent, so a fix made meanwhile is what is mailed."""

    id = fields.BigIntField(primary_key=True)
    to_address = fields.CharField(max_length=320)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    user_id: int | None
    template = fields.CharField(max_length=64)
    subject = fields.CharField(max_length=250)
    context: dict[str, Any] = fields.JSONField(default=dict)
    category = fields.CharField(max_length=40, null=True)
    thread_key = fields.CharField(max_length=100, null=True)
    unsubscribe_url = fields.CharField(max_length=2000, null=True)
    reply_to = fields.CharField(max_length=320, null=True)
    message_token = fields.CharField(
        max_length=64, unique=True, description="the left side of its Message-ID, fixed when queued"
    )
    status = fields.CharEnumField(MailStatus, max_length=8, default=MailStatus.QUEUED)
    attempts = fields.IntField(default=0, description="sending attempts begun")
    handed_over_at = fields.DatetimeField(
        null=True, description="when the message itself began to leave (the SMTP DATA)"
    )
    last_error = fields.TextField(null=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outgoing_mails"
        table_description = "The outbox: every mail, recorded before it is sent."
        indexes = (("status", "created_at"), ("user_id", "created_at"))
