"""Outgoing mail: recorded in the outbox in the transaction that causes it, sent by a
background job.

    async with unit_of_work(bus) as work:
        ...
        await queue_mail(OutgoingMessage(to_address=user.email, to_user_id=user.id,
                                         template="password_reset", subject="…",
                                         context={"reset_url": url}))
"""

from __future__ import annotations

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient

from domain.mail import OutgoingMessage, new_message_token
from models import OutgoingMail

SEND_JOB = "mail.send"


async def queue_mail(msg: OutgoingMessage) -> int:
    """Record ``msg`` in the outbox and schedule its sending; returns the outbox row's id.

    Call inside the caller's ``unit_of_work``: the mail exists if and only if the cause
    commits. Its Message-ID is fixed here; it is rendered when it is sent. Raises
    ValueError for a message that could never be sent (see :meth:`OutgoingMessage.check`)
    and RuntimeError outside a transaction."""
    msg.check()
    if not isinstance(connections.get("default"), TransactionalDBClient):
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
    return int(mail.id)
