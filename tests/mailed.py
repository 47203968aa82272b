"""What was mailed: the tokens of the links in account mails (invitations, password
resets), read from the outbox as it will be rendered, or from a Maildir a server wrote,
for tests that go on from the mail."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from models.mail import OutgoingMail


async def mailed_token(address: str, template: str = "invitation") -> str:
    """The token of the latest ``template`` mail to ``address`` (the one its link holds)."""
    mail = await OutgoingMail.filter(to_address=address, template=template).order_by("-id").first()
    assert mail is not None, f"no {template} mail to {address} was queued"
    return str(mail.context["token"])


async def invited_token(result: Any) -> str:
    """The token mailed for the invitation ``inviteContact`` answered in ``result`` (a
    ``Result`` whose selection holds ``invitation { email }``): the latest invitation
    mail to its address."""
    return await mailed_token(result.data["inviteContact"]["invitation"]["email"])


def maildir_messages(maildir: Path) -> list[EmailMessage]:
    """Every message in the Maildir (``new`` and ``cur``), oldest first; none while it
    does not exist."""
    files = [f for sub in ("new", "cur") for f in (maildir / sub).glob("*") if f.is_file()]
    messages = []
    for path in sorted(files, key=lambda f: f.stat().st_mtime_ns):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


def plain_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the mail has no plain-text part"
    return str(part.get_content())


async def maildir_link(
    maildir: Path, address: str, route: str, *, within: float = 20, after: int = 0
) -> str:
    """The token of the ``#/<route>/<token>`` link in the first mail to ``address`` after
    the ``after`` messages there were before, once a server has written it."""
    pattern = re.compile(rf"#/{re.escape(route)}/([A-Za-z0-9_-]+)")
    deadline = time.monotonic() + within
    while True:
        messages = maildir_messages(maildir)[after:]
        for message in messages:
            if address in str(message["To"]) and (found := pattern.search(plain_text(message))):
                return found.group(1)
        assert time.monotonic() < deadline, f"no {route} mail to {address} in {maildir}"
        await asyncio.sleep(0.05)


def server_maildir(server: Any) -> Path:
    """The Maildir that a server started by the tests (``tests.browser.Server``) mails to."""
    return Path(str(server.env["EXTRANET_SMTP_URL"]).removeprefix("maildir://"))
