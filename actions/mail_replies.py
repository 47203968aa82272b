"""Replies by mail: a reply to a notification mail's signed address
(domain/reply_addresses.py) is posted where it belongs, as the user the address was made
for, with that user's rights at this moment, through the same actions as the API (a reply
to a micropost, a comment on a concept page, a message on a request), which publish it live.

Refused, with nothing posted and an ``mail_reply.refused`` entry in the audit trail: an
address that is not one of ours (forged), an expired or already used one (replayed), a
sender who is not the address's user, an account that is no longer active, a user who may
no longer write there, and a reply with no text of its own. Each refusal carries the SMTP
reply the gateway answers with (app/mail_gateway.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError

from actions._common import MICROPOST_MAX_LENGTH, audit
from actions.microposts import post_micropost
from actions.unit_of_work import unit_of_work
from domain import policy
from domain.errors import AppError, BadUserInput
from domain.reply_addresses import ReplyKind, ReplyRefused, ReplyTarget, digest, token_of, verify
from domain.reply_text import reply_text
from infra.settings import Settings
from models import UsedReplyToken, User
from realtime.bus import EventBus

log = logging.getLogger(__name__)


class ReplyRejected(Exception):
    """A reply that is not posted; ``smtp`` is the gateway's answer (``550 5.7.1 …``)."""

    def __init__(self, reason: str, smtp: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.smtp = smtp


@dataclass(frozen=True, slots=True)
class PostedReply:
    """Where a reply went: ``kind`` and the id of what was written (a micropost, or a
    request's message)."""

    kind: ReplyKind
    written_id: int
    user_id: int


_NOT_OURS = "550 5.1.1 This address takes replies to notification mail only."
_REFUSED = "550 5.7.1 This reply address is not valid; answer in the extranet instead."
_EXPIRED = "550 5.7.1 This reply address has expired; answer in the extranet instead."
_USED = "550 5.7.1 This reply address was already used; answer in the extranet instead."
_SENDER = "550 5.7.1 Replies are accepted only from the address the notification went to."
_ACCESS = "550 5.7.1 You can no longer write there."
_EMPTY = "550 5.6.0 The reply holds no text of its own (only quoted text)."
_TOO_LONG = f"550 5.6.0 The reply is longer than {MICROPOST_MAX_LENGTH:,} characters."


def _target(recipient: str) -> str:
    """How the audit trail names a reply address: by its token's digest (as a used one is
    kept), never the token itself, which may still work."""
    token = token_of(recipient)
    if token is None:
        return recipient[:200]
    return f"reply:{digest(token)[:32]}"


async def _refuse(
    reason: str, smtp: str, *, user: User | None, recipient: str, sender: str
) -> ReplyRejected:
    """Record the refusal in the audit trail; answers the exception to raise."""
    try:
        async with unit_of_work():
            await audit(
                "mail_reply.refused",
                actor=user,
                target=_target(recipient),
                reason=reason,
                senderDomain=sender.rpartition("@")[2][:254],  # the person's address: never
            )
    except Exception:  # the refusal stands even if it cannot be recorded
        log.exception("Recording a refused reply by mail failed")
    return ReplyRejected(reason, smtp)


async def _post(user: User, bus: EventBus, target: ReplyTarget, text: str) -> tuple[ReplyKind, int]:
    """Write the reply through the API's actions (their checks of rights apply)."""
    if target.kind is ReplyKind.MICROPOST:
        parent = await policy.get_visible(
            policy.visible_microposts(user), target.target_id, "micropost"
        )
        post = await post_micropost(
            user, bus, project_id=parent.project_id, body=text, parent_id=parent.id
        )
        return target.kind, post.id
    if target.kind is ReplyKind.PAGE_COMMENT:
        page = await policy.get_visible(policy.visible_pages(user), target.target_id, "page")
        post = await post_micropost(
            user, bus, project_id=page.project_id, body=text, page_id=page.id
        )
        return target.kind, post.id
    from actions import requests  # requests are an optional part of an installation

    message = await requests.reply_to_request(user, bus, request_id=target.target_id, body=text)
    return target.kind, message.id


async def post_reply(
    settings: Settings,
    bus: EventBus,
    *,
    recipient: str,
    sender: str,
    body: str,
    message_id: str,
    now: datetime,
) -> PostedReply:
    """Post the reply ``body`` (the plain text of the mail, quotes and signature still in
    it) sent by ``sender`` to the reply address ``recipient``. Raises
    :class:`ReplyRejected` (recorded in the audit trail) when it is refused; see the
    module's docstring."""
    token = token_of(recipient)
    if token is None:
        raise await _refuse("not_ours", _NOT_OURS, user=None, recipient=recipient, sender=sender)
    try:
        target = verify(settings, token, now=now)
    except ReplyRefused as refused:
        smtp = _EXPIRED if refused.reason == "expired" else _REFUSED
        raise await _refuse(
            refused.reason, smtp, user=None, recipient=recipient, sender=sender
        ) from None
    user = await User.get_or_none(id=target.user_id)
    if user is None or not user.is_active:
        raise await _refuse("inactive", _ACCESS, user=user, recipient=recipient, sender=sender)
    if sender.strip().lower() != user.email.lower():
        raise await _refuse("wrong_sender", _SENDER, user=user, recipient=recipient, sender=sender)
    text = reply_text(body)
    if not text:
        raise await _refuse("empty", _EMPTY, user=user, recipient=recipient, sender=sender)
    if len(text) > MICROPOST_MAX_LENGTH:
        raise await _refuse("too_long", _TOO_LONG, user=user, recipient=recipient, sender=sender)
    refusal: tuple[str, str] | None = None
    try:
        async with unit_of_work(bus):
            await UsedReplyToken.create(
                digest=digest(token), user_id=user.id, message_id=message_id[:255]
            )
            kind, written = await _post(user, bus, target, text)
    except IntegrityError:
        refusal = ("replayed", _USED)
    except BadUserInput as error:
        refusal = ("bad_input", f"550 5.6.0 {' '.join(str(error).split())}")
    except AppError as error:  # NOT_FOUND, FORBIDDEN: no (longer) theirs to write
        refusal = (f"refused:{error.code}", _ACCESS)
    if refusal is not None:
        raise await _refuse(*refusal, user=user, recipient=recipient, sender=sender)
    return PostedReply(kind, written, user.id)
