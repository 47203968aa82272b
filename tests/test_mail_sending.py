"""Sending mail for real: the outbox, the message, SMTP and the Maildir."""

from __future__ import annotations

import pytest

from actions.mail import queue_mail
from actions.unit_of_work import unit_of_work
from domain.mail import OutgoingMessage
from models import MailStatus, OutgoingMail


def notice(**overrides: object) -> OutgoingMessage:
    fields: dict[str, object] = {
        "to_address": "anna@acme.example",
        "template": "notice",
        "subject": "Your export is ready",
        "context": {"heading": "Ready", "paragraphs": ["It is ready."], "link": None},
    }
    fields.update(overrides)
    return OutgoingMessage(**fields)  # type: ignore[arg-type]


async def test_a_queued_mail_is_recorded_with_its_cause(app: object) -> None:
    # when a mail is queued in a unit of work that commits, and one in a unit that fails
    async with unit_of_work() as _:
        kept = await queue_mail(notice())
    with pytest.raises(LookupError):
        async with unit_of_work() as _:
            await queue_mail(notice(to_address="ben@acme.example"))
            raise LookupError
    # then only the first exists, queued
    [mail] = await OutgoingMail.all()
    assert mail.id == kept
    assert mail.status == MailStatus.QUEUED


async def test_a_mail_that_could_never_be_sent_is_refused_at_once(app: object) -> None:
    with pytest.raises(ValueError, match="No mail template"):
        async with unit_of_work() as _:
            await queue_mail(notice(template="no_such_mail"))
    with pytest.raises(ValueError, match="JSON"):
        async with unit_of_work() as _:
            await queue_mail(notice(context={"when": object()}))
    assert await OutgoingMail.all().count() == 0
