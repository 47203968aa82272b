"""``extranet mail-gateway``: an SMTP server (aiosmtpd) that takes replies to notification
mail and posts them where they belong (actions/mail_replies.py).

It accepts mail for ``reply+<token>@…`` addresses only (any other recipient: 550 at RCPT),
one recipient per message, at most MAX_BYTES (552 beyond), and answers each message with
the outcome: 250 when the reply was posted, a 5xx refusal otherwise (nothing posted; the
refusal is in the audit trail). It speaks plain SMTP on a local port and is meant to sit
behind the installation's real mail server, which hands it the mail for ``reply+*``
(README, "Replies by mail").
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from actions.mail_replies import ReplyRejected, post_reply
from domain.reply_addresses import token_of
from infra.settings import Settings
from realtime.bus import EventBus

log = logging.getLogger(__name__)

MAX_BYTES = 256 * 1024
"""The largest reply accepted, headers included (attachments are not taken)."""


def _plain_text(message: EmailMessage) -> str | None:
    """The message's text: its plain-text part, else its HTML part without markup."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None or not isinstance(part, EmailMessage):
        return None
    content = part.get_content()
    if not isinstance(content, str):
        return None
    if part.get_content_subtype() == "html":
        return _html_text(content)
    return content


_SKIPPED = frozenset({"script", "style", "head", "title", "blockquote"})
_BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "wbr"})


class _HtmlText(HTMLParser):
    """The text of an HTML reply: quotes (``blockquote``, however nested, and Gmail's
    ``gmail_quote``), scripts and styles left out; line breaks where blocks end."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []  # the open elements inside a skipped one, outermost first

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS:
            self.parts.append("\n")
        if tag in _VOID:
            return
        quoted = "gmail_quote" in (dict(attrs).get("class") or "")
        if self.skipping or tag in _SKIPPED or quoted:
            self.skipping.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BREAKS:
            self.parts.append("\n")
        if tag in self.skipping:  # close it and whatever was left open inside it
            del self.skipping[len(self.skipping) - 1 - self.skipping[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _html_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return re.sub(r"[ \t]*\n[ \t]*", "\n", "".join(parser.parts)).strip()


class ReplyGateway:
    """aiosmtpd's handler: see the module's docstring."""

    def __init__(self, settings: Settings, bus: EventBus, max_bytes: int = MAX_BYTES) -> None:
        self.settings = settings
        self.bus = bus
        self.max_bytes = max_bytes

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if token_of(address) is None:
            return "550 5.1.1 This server takes replies to notification mail only."
        if envelope.rcpt_tos:
            return "452 4.5.3 One recipient per message, please."
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        if len(raw) > self.max_bytes:
            return "552 5.3.4 The reply is too large."
        try:  # malformed mail (an unknown charset, broken headers) is refused, not a crash
            parsed = BytesParser(policy=policy.default).parsebytes(raw)
            if not isinstance(parsed, EmailMessage):
                return "550 5.6.0 The message cannot be read."
            senders = [address for _, address in getaddresses(parsed.get_all("From", []))]
            text = _plain_text(parsed)
            reply_id = str(parsed.get("Message-ID", ""))
        except Exception as error:
            log.info("Refused a reply by mail that cannot be read: %s", type(error).__name__)
            return "550 5.6.0 The message cannot be read."
        if len(senders) != 1 or text is None:
            return "550 5.6.0 A reply needs one sender and a text."
        try:
            await post_reply(
                self.settings,
                self.bus,
                recipient=envelope.rcpt_tos[0],
                sender=senders[0],
                body=text,
                message_id=reply_id,
                now=datetime.now(UTC),
            )
        except ReplyRejected as refused:
            log.info("Refused a reply by mail: %s", refused.reason)
            return refused.smtp
        except Exception:
            log.exception("Posting a reply by mail failed")
            return "451 4.3.0 The reply could not be posted now; try again later."
        return "250 OK: your reply was posted."


_REPLY_TOKEN = re.compile(r"(?i)(reply\+)[a-z2-7]+")


class _WithoutReplyTokens(logging.Filter):
    """aiosmtpd logs each SMTP command (``RCPT TO:<reply+…>``) at INFO, and each line of
    a message at DEBUG: the token of an address that was refused still works, so it is
    left out, and so are the lines of the message (people's mail)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "readline" in record.msg:
            return False
        text = record.getMessage()
        if "reply+" in text.lower():
            record.msg, record.args = _REPLY_TOKEN.sub(r"\1…", text), None
        return True


def _quiet_tokens() -> None:
    server_log = logging.getLogger("mail.log")  # aiosmtpd's
    if not any(isinstance(f, _WithoutReplyTokens) for f in server_log.filters):
        server_log.addFilter(_WithoutReplyTokens())


async def start_gateway(
    settings: Settings, bus: EventBus, host: str, port: int, **options: Any
) -> asyncio.Server:
    """The gateway listening on ``host``:``port`` (0: any free port; see the server's
    sockets). ``options`` go to :class:`ReplyGateway` (``max_bytes``)."""
    _quiet_tokens()
    handler = ReplyGateway(settings, bus, **options)
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(
            handler,
            data_size_limit=handler.max_bytes,
            enable_SMTPUTF8=True,
            hostname="extranet-mail-gateway",
        ),
        host=host,
        port=port,
    )
