"""Outgoing mail: recorded in the outbox in the transaction that causes it, sent once by a
background job (``mail.send``).

    async with unit_of_work(bus) as work:
        ...
        await queue_mail(OutgoingMessage(to_address=user.email, to_user_id=user.id,
                                         template="password_reset", subject="…",
                                         context={"reset_url": url}))

Sending (:func:`send_mail`), and why a mail is not sent twice:

1. The job marks the mail SENDING and counts the attempt, committed, before anything else
   (the claim). It renders the templates then, so what is mailed is the state at sending.
2. Right before the message itself leaves (before the SMTP ``DATA``, or before the file is
   written into the Maildir), it records ``handed_over_at``, committed. Until then the
   mail server has not seen the message: whatever happened, sending it is safe.
3. The server's answer to the message decides: accepted → SENT; a 5xx answer → FAILED for
   good (no retry can help; last_error keeps the answer); anything else (no server, a
   timeout, a 4xx answer) → QUEUED again and tried later with a growing delay (30 s,
   doubled each time, at most an hour; FAILED after ``MAX_ATTEMPTS``).

A mail that a new attempt finds SENDING, or with ``handed_over_at`` set, was being sent by
a worker that stopped (killed, the machine lost) or lost its connection mid-message:

- without ``handed_over_at``, the message never left: it is sent now;
- with it, the outcome is unknown. The attempt asks the transport first: a Maildir can
  tell (it looks for the Message-ID), and a message found there is SENT without writing
  it again. SMTP cannot be asked; the message is then sent again, with the same
  Message-ID. That is what every mail server does when a connection breaks after the
  message was transferred but before the answer (RFC 5321, section 6.1, accepts such a
  duplicate rather than a loss); the unchanged Message-ID lets mail servers and clients
  recognise the copy, and it can only happen in the moment between the server taking the
  message and the answer arriving. Losing a password reset or an invitation would be worse.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from jinja2 import TemplateError
from tortoise.expressions import F

from actions.jobs import JobContext, RetryAt, enqueue, job_handler
from actions.unit_of_work import current_unit, unit_of_work
from domain.mail import (
    OutgoingMessage,
    build_message,
    message_id,
    new_message_token,
    without_secrets,
)
from infra import metrics, tracing
from infra.mail_transport import MailError, transport_for
from models import MailStatus, OutgoingMail

log = logging.getLogger(__name__)

SEND_JOB = "mail.send"
MAX_ATTEMPTS = 12  # about 5 hours of trying before a mail is given up
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


async def queue_mail(msg: OutgoingMessage) -> int:
    """Record ``msg`` in the outbox and schedule its sending; returns the outbox row's id.

    Call inside the caller's ``unit_of_work``: the mail exists if and only if the cause
    commits. Its Message-ID is fixed here; it is rendered when it is sent. Raises
    ValueError for a message that could never be sent (see :meth:`OutgoingMessage.check`)
    and RuntimeError outside a unit of work."""
    msg.check()
    if current_unit() is None:
        raise RuntimeError("queue_mail belongs inside the unit_of_work of its cause.")
    mail = await OutgoingMail.create(
        to_address=msg.to_address,
        user_id=msg.to_user_id,
        template=msg.template,
        subject=" ".join(msg.subject.split())[:250],
        context=msg.context,
        category=msg.category,
        thread_key=msg.thread_key,
        unsubscribe_url=msg.unsubscribe_url,
        reply_to=msg.reply_to,
        message_token=new_message_token(),
    )
    await enqueue(SEND_JOB, {"mail": mail.id})
    return int(mail.id)


def retry_delay(attempt: int) -> timedelta:
    """How long after failed attempt ``attempt`` (1-based) the next one is: 30 s, doubled
    each time, at most an hour."""
    delay: timedelta = FIRST_RETRY * 2 ** (attempt - 1)
    return min(delay, LONGEST_RETRY)


def _message(mail: OutgoingMail) -> OutgoingMessage:
    return OutgoingMessage(
        to_address=mail.to_address,
        to_user_id=mail.user_id,
        template=mail.template,
        subject=mail.subject,
        context=mail.context,
        category=mail.category,
        thread_key=mail.thread_key,
        unsubscribe_url=mail.unsubscribe_url,
        reply_to=mail.reply_to,
    )


async def _update(mail_id: int, **changes: Any) -> None:
    async with unit_of_work():
        await OutgoingMail.filter(id=mail_id).update(**changes)


# One more job attempt than mail attempts: an attempt whose worker stopped is run again
# (and finds the mail SENDING) even when it was the last of MAX_ATTEMPTS.
@job_handler(SEND_JOB, max_attempts=MAX_ATTEMPTS + 1)
async def send_mail(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Send the outbox's mail ``payload["mail"]`` (its id) once; see the module's docstring.
    Raises RetryAt after a temporary failure."""
    mail_id = int(payload["mail"])
    async with unit_of_work():
        mail = await OutgoingMail.select_for_update().get_or_none(id=mail_id)
        if mail is None or mail.status in (MailStatus.SENT, MailStatus.FAILED):
            return
        found_sending = mail.status == MailStatus.SENDING
        await OutgoingMail.filter(id=mail_id).update(
            status=MailStatus.SENDING, attempts=F("attempts") + 1
        )
    settings = ctx.settings
    if not settings.mail_enabled:
        await _done(mail, MailStatus.FAILED, last_error="Mail is off (EXTRANET_MAIL).")
        return
    transport = transport_for(settings.smtp_url, timeout=settings.smtp_timeout)
    mid = message_id(mail.message_token, settings)
    if mail.handed_over_at is not None:
        if await transport.holds(mid):
            log.info("Mail %s %s had arrived before its sender stopped", mail_id, mid)
            await _done(mail, MailStatus.SENT, sent_at=ctx.now, last_error=None)
            return
        log.warning("Mail %s %s is sent again: its last attempt stopped mid-message", mail_id, mid)
    elif found_sending:
        log.info("Mail %s %s is sent: its last attempt stopped before the message", mail_id, mid)
    try:
        message = build_message(_message(mail), settings, mid, date=ctx.now)
    except (TemplateError, ValueError) as error:
        log.exception("Mail %s cannot be rendered", mail_id)
        await _done(mail, MailStatus.FAILED, last_error=f"Cannot render: {error}")
        return

    for name, value in tracing.headers().items():  # the trace of the operation behind it
        message[name] = value

    async def handing_over() -> None:
        await _update(mail_id, handed_over_at=ctx.now)

    try:
        await transport.send(message, handing_over=handing_over)
    except MailError as error:
        await _failed(mail, error, ctx.attempt, ctx.now)
        return
    await _done(mail, MailStatus.SENT, sent_at=ctx.now, last_error=None)
    await _prune_now_and_then(ctx.settings.mail_kept_days, ctx.now)


async def _done(mail: OutgoingMail, status: MailStatus, **changes: Any) -> None:
    """The mail is SENT or FAILED for good: nothing will render it again, so the secrets
    of its context (a reset or invitation token) and its reply address go."""
    metrics.MAILS.labels("sent" if status == MailStatus.SENT else "failed").inc()
    await _update(
        mail.id, status=status, context=without_secrets(mail.context), reply_to=None, **changes
    )


async def _failed(mail: OutgoingMail, error: MailError, attempt: int, now: datetime) -> None:
    mail_id = mail.id
    if error.permanent or attempt >= MAX_ATTEMPTS:
        log.error("Mail %s FAILED after %s attempt(s): %s", mail_id, attempt, error)
        await _done(mail, MailStatus.FAILED, last_error=str(error))
        return
    when = now + retry_delay(attempt)
    metrics.MAILS.labels("retried").inc()
    await _update(mail_id, status=MailStatus.QUEUED, last_error=str(error))
    raise RetryAt(when, f"mail {mail_id}: {error}")


PRUNE_EVERY = 600.0  # seconds between two prunings of the outbox by one process
_pruned_at = 0.0


async def prune_outbox(before: datetime) -> int:
    """Delete the outbox's SENT and FAILED mails queued before ``before`` (aware); answers
    how many. Mails still to send are kept whatever their age."""
    async with unit_of_work():
        return int(
            await OutgoingMail.filter(
                status__in=(MailStatus.SENT, MailStatus.FAILED), created_at__lt=before
            ).delete()
        )


async def _prune_now_and_then(kept_days: int, now: datetime) -> None:
    """After a mail is sent, at most every PRUNE_EVERY seconds per process: forget the
    mails older than ``kept_days`` (``EXTRANET_MAIL_KEPT_DAYS``)."""
    global _pruned_at
    if time.monotonic() - _pruned_at < PRUNE_EVERY and _pruned_at:
        return
    _pruned_at = time.monotonic()
    try:
        deleted = await prune_outbox(now - timedelta(days=kept_days))
    except Exception:  # the mail is sent; pruning is tried again later
        log.exception("Pruning the outbox failed")
        return
    if deleted:
        log.info("Deleted %s mail(s) of the outbox older than %s days", deleted, kept_days)
