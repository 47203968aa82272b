"""Where outgoing mail goes, chosen by the scheme of ``EXTRANET_SMTP_URL``:

- ``smtp://user:password@host:587``: SMTP with STARTTLS, required when the URL carries
  credentials (a password is never sent in the clear) and used whenever the server offers
  it otherwise (a relay on the same host or network, port 25);
- ``smtps://user:password@host:465``: SMTP over TLS from the first byte;
- ``maildir:///path``: each message becomes a file in a Maildir (the embedded default,
  ``var/mail``), which any mail reader opens (``mutt -f var/mail``).

Certificates are checked against the system's trust store (``SSL_CERT_FILE`` names another
bundle). User name and password are percent-decoded (``%40`` for ``@``).

Failures are :class:`TemporaryMailError` (try again later: the server is away, slow, or
answered 4xx; also a refused login or certificate, which an administrator fixes without
the mail being wrong) or :class:`PermanentMailError` (the server refused this message or
recipient for good with a 5xx answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import mailbox
import ssl
from collections.abc import Awaitable, Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

HandingOver = Callable[[], Awaitable[None]]


class MailError(Exception):
    """A message could not be handed over; ``permanent`` when trying again cannot help."""

    permanent = False


class TemporaryMailError(MailError):
    pass


class PermanentMailError(MailError):
    permanent = True


class MailTransport(Protocol):
    async def send(self, message: EmailMessage, *, handing_over: HandingOver) -> None:
        """Hand ``message`` over. ``handing_over`` is awaited right before the message
        itself leaves (after which whether it arrived may be unknown if the connection
        breaks). Raises :class:`MailError`."""

    async def holds(self, message_id: str) -> bool | None:
        """Whether a message with this ``Message-ID`` (``<…@…>``) arrived: True or False
        when the transport can tell (a Maildir), None when it cannot (SMTP)."""


def transport_for(url: str, *, timeout: float) -> MailTransport:
    """The transport for ``url`` (``smtp://``, ``smtps://`` or ``maildir://``), giving up
    on a connection or SMTP command after ``timeout`` seconds. Raises ValueError for
    another scheme."""
    parts = urlsplit(url)
    if parts.scheme == "maildir":
        return MaildirTransport(Path(unquote(parts.path)))
    if parts.scheme in ("smtp", "smtps"):
        return SmtpTransport(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if parts.scheme == "smtps" else 587),
            implicit_tls=parts.scheme == "smtps",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=timeout,
        )
    raise ValueError(f"No mail transport for {parts.scheme}://")


def _envelope(message: EmailMessage) -> tuple[str, list[str]]:
    sender = parseaddr(str(message["From"]))[1]
    recipients = [
        address
        for field in ("To", "Cc", "Bcc")
        for _, address in getaddresses([str(v) for v in message.get_all(field, [])])
        if address
    ]
    return sender, recipients


class SmtpTransport:
    """One SMTP connection per message (mail here is a trickle, not a bulk send)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        implicit_tls: bool,
        username: str | None,
        password: str | None,
        timeout: float,
    ) -> None:
        self.host, self.port, self.implicit_tls = host, port, implicit_tls
        self.username, self.password, self.timeout = username, password, timeout

    async def holds(self, message_id: str) -> bool | None:
        return None  # SMTP cannot be asked what it received

    async def send(self, message: EmailMessage, *, handing_over: HandingOver) -> None:
        sender, recipients = _envelope(message)
        del message["Bcc"]
        data = message.as_bytes(policy=policy.SMTP)
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.implicit_tls,
            # required with credentials; otherwise used when the server offers it
            start_tls=None if self.implicit_tls or self.username is None else True,
            username=self.username,
            password=self.password,
            timeout=self.timeout,
            tls_context=ssl.create_default_context(),
        )
        try:
            await client.connect()
            try:
                await client.mail(sender)
                for recipient in recipients:
                    await client.rcpt(recipient)
                try:
                    await handing_over()
                except Exception as error:  # not the mail server's: raised as it is, below
                    raise _NotHandedOver(error) from error
                await client.data(data)
            finally:
                if client.is_connected:
                    await _quietly(client.quit())
        except _NotHandedOver as stopped:
            raise stopped.error from None
        except aiosmtplib.SMTPAuthenticationError as error:
            raise TemporaryMailError(f"The mail server refused the login: {error}") from error
        except aiosmtplib.SMTPResponseException as error:
            kind = PermanentMailError if 500 <= error.code < 600 else TemporaryMailError
            raise kind(f"The mail server answered {error.code} {error.message}") from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise TemporaryMailError(
                f"The mail server at {self.host}:{self.port} failed: {error}"
            ) from error


class _NotHandedOver(Exception):
    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


async def _quietly(step: Awaitable[object]) -> None:
    with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
        await step  # the message went through; a failing goodbye changes nothing


class MaildirTransport:
    """Each message a file in ``path/new`` (written in ``tmp`` and renamed, so a reader
    never sees half of one)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, message: EmailMessage, *, handing_over: HandingOver) -> None:
        await handing_over()
        try:
            await asyncio.to_thread(self._add, message)
        except OSError as error:
            raise TemporaryMailError(f"Cannot write to the Maildir {self.path}: {error}") from error

    def _add(self, message: EmailMessage) -> None:
        mailbox.Maildir(self.path, create=True).add(message)

    async def holds(self, message_id: str) -> bool | None:
        return await asyncio.to_thread(self._holds, message_id)

    def _holds(self, message_id: str) -> bool:
        parser = BytesHeaderParser(policy=policy.default)
        for folder in ("new", "cur"):
            directory = self.path / folder
            if not directory.is_dir():
                continue
            for file in directory.iterdir():
                with file.open("rb") as handle:
                    if str(parser.parse(handle).get("Message-ID", "")).strip() == message_id:
                        return True
        return False
