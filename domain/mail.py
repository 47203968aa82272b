"""Outgoing mail as the product writes it: what to send (:class:`OutgoingMessage`) and the
message a mail client receives (:func:`build_message`).

A message is a pair of Jinja2 templates in ``domain/mail_templates/``: ``<name>.txt`` (the
plain-text part) and ``<name>.html`` (the HTML part; autoescaped, so text of users can never
become markup). Both usually extend the base layout (``_layout.txt`` / ``_layout.html``)
and fill its ``content`` block. Every template sees the message's ``context`` and:

- ``public_url``: where people open the extranet (``https://extranet.example.com``; the web
  client's routes are under it, such as ``{{ public_url }}/#/projects/<id>``);
- ``preferences_url``: the page where a user changes what mail they get;
- ``unsubscribe_url``: the one-click link of the message's category, or None;
- ``subject`` and ``category``.

A variable a template uses but nobody gave is an error (``StrictUndefined``), never an
empty string in someone's mail.

Headers (besides From, To, Subject, Date):

- ``Message-ID``: ``<token@domain>``, the token fixed when the mail is queued, so every
  attempt to send a mail carries the same id and a copy of it is recognisable.
- ``In-Reply-To`` and ``References``: for a ``thread_key`` (``project-12``), the same
  made-up root ``<thread.project-12@<domain>>`` in every mail of the thread, which mail
  clients group into one conversation (as GitHub's and GitLab's notifications do).
- ``List-Id``: a category's mail is a list of its own (``<mentions.<domain>>``), which
  people can filter; account mails (no category) carry none.
- ``List-Unsubscribe: <https://…>`` and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
  (RFC 8058) when the message has an ``unsubscribe_url``; the link acts on POST only.
  One-click is for HTTPS links only: an ``http://`` link (development) gets no
  ``List-Unsubscribe-Post``, and production insists on an https:// public URL.
- ``Auto-Submitted: auto-generated`` (RFC 3834), so that vacation responders keep quiet.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from infra.settings import Settings

TEMPLATES_DIR = Path(__file__).resolve().parent / "mail_templates"
TEMPLATE_NAME = re.compile(r"[a-z0-9][a-z0-9_]{0,63}")
THREAD_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
CATEGORY = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
MAX_SUBJECT_CHARS = 250
MAX_ADDRESS_CHARS = 320  # RFC 5321: 64 for the local part, 255 for the domain
MAX_URL_CHARS = 2000
SECRET_KEYS = frozenset({"token", "reply_address"})
"""Keys of a mail's context whose values are secrets (an invitation's or a password reset's
token, a signed reply address): kept only until the mail is sent or given up."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingMessage:
    """One mail to send to one recipient (keyword arguments only).

    - ``to_address``: the recipient's address (``anna@acme.example``);
    - ``to_user_id``: the user it is for, or None for an address without an account (an
      invitation);
    - ``template``: the name of a template pair in ``domain/mail_templates/``
      (``password_reset`` for ``password_reset.txt`` and ``password_reset.html``);
    - ``context``: what the templates see besides the standard variables; JSON-serialisable,
      since it is stored until the mail is sent and rendered only then; values under the
      keys of :data:`SECRET_KEYS` (at any depth) are blanked once it is sent or given up;
    - ``subject``: the subject line, plain text (line breaks become spaces);
    - ``category``: the preference category (``mentions``, ``requests``), or None for
      account mail that cannot be unsubscribed from;
    - ``thread_key``: groups mails into one conversation (``project-12``, ``request-7``);
    - ``unsubscribe_url``: the HTTPS one-click unsubscribe link (RFC 8058), or None;
    - ``reply_to``: the address replies go to (a signed reply address), or None.
    """

    to_address: str
    template: str
    subject: str
    context: dict[str, Any] = field(default_factory=dict)
    to_user_id: int | None = None
    category: str | None = None
    thread_key: str | None = None
    unsubscribe_url: str | None = None
    reply_to: str | None = None

    def check(self) -> None:
        """Raise ValueError when the message could never be sent: a malformed address,
        an unknown template, a context that is not JSON, a malformed category or thread key,
        or an unsubscribe link that is not a web address."""
        if not _is_address(self.to_address):
            raise ValueError(f"Not a mail address: {self.to_address!r}")
        if self.reply_to is not None and not _is_address(self.reply_to):
            raise ValueError(f"Not a mail address: {self.reply_to!r}")
        if len(self.unsubscribe_url or "") > MAX_URL_CHARS:
            raise ValueError(f"An unsubscribe link is at most {MAX_URL_CHARS} characters")
        if not template_exists(self.template):
            raise ValueError(
                f"No mail template {self.template!r}: domain/mail_templates/ needs "
                f"{self.template}.txt and {self.template}.html"
            )
        if self.category is not None and not CATEGORY.fullmatch(self.category):
            raise ValueError(f"A category is lower-case letters, digits and -: {self.category!r}")
        if self.thread_key is not None and not THREAD_KEY.fullmatch(self.thread_key):
            raise ValueError(f"A thread key is letters, digits and . _ -: {self.thread_key!r}")
        if self.unsubscribe_url is not None and not re.fullmatch(
            r"https?://[^\s<>]+", self.unsubscribe_url
        ):
            raise ValueError(f"Not a web address: {self.unsubscribe_url!r}")
        try:
            json.dumps(self.context)
        except (TypeError, ValueError) as error:
            raise ValueError(f"A mail's context must be JSON: {error}") from None


def without_secrets(value: Any) -> Any:
    """``value`` (a mail's JSON context) with every value under a key of :data:`SECRET_KEYS`,
    at any depth, replaced by an empty string."""
    if isinstance(value, dict):
        return {
            key: "" if key in SECRET_KEYS else without_secrets(item) for key, item in value.items()
        }
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    return value


def _is_address(value: str) -> bool:
    return len(value) <= MAX_ADDRESS_CHARS and bool(
        re.fullmatch(r"[^\s<>@,;:\"()\[\]\\]+@[A-Za-z0-9.-]+\.?[A-Za-z0-9-]*", value)
    )


def template_exists(name: str) -> bool:
    """Whether ``<name>.txt`` and ``<name>.html`` are both in the templates directory."""
    return bool(TEMPLATE_NAME.fullmatch(name)) and all(
        (TEMPLATES_DIR / f"{name}.{suffix}").is_file() for suffix in ("txt", "html")
    )


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


def mail_domain(settings: Settings) -> str:
    """The domain of the sender's address (``example.com`` of ``extranet@example.com``): the
    right side of the Message-IDs this installation makes."""
    _, address = parseaddr(settings.mail_from)
    domain = address.rpartition("@")[2].strip().lower()
    return domain or "localhost"


def new_message_token() -> str:
    """A fresh, unique left side of a Message-ID (32 hexadecimal digits)."""
    return secrets.token_hex(16)


def message_id(token: str, settings: Settings) -> str:
    """The ``Message-ID`` of the mail whose token is ``token``: ``<token@domain>``, with the
    domain of the sender's address."""
    return f"<{token}@{mail_domain(settings)}>"


def thread_root_id(thread_key: str, settings: Settings) -> str:
    """The made-up Message-ID that every mail of a thread refers to."""
    return f"<thread.{thread_key}@{mail_domain(settings)}>"


def preferences_url(settings: Settings) -> str:
    """The web client's account page, where a user chooses what mail they get."""
    return f"{settings.public_url}/#/account"


def render(msg: OutgoingMessage, settings: Settings) -> tuple[str, str]:
    """The plain-text and HTML bodies of ``msg``. Raises jinja2's TemplateError (such as
    UndefinedError for a variable nobody gave) when a template cannot be rendered."""
    variables = {
        **msg.context,
        "public_url": settings.public_url,
        "preferences_url": preferences_url(settings),
        "unsubscribe_url": msg.unsubscribe_url,
        "subject": _one_line(msg.subject),
        "category": msg.category,
    }
    environment = _environment()
    text = environment.get_template(f"{msg.template}.txt").render(variables)
    html = environment.get_template(f"{msg.template}.html").render(variables)
    return text, html


def _one_line(text: str) -> str:
    return " ".join(text.split())[:MAX_SUBJECT_CHARS]


def build_message(
    msg: OutgoingMessage, settings: Settings, message_id: str, *, date: datetime | None = None
) -> EmailMessage:
    """The MIME message for ``msg``: ``multipart/alternative`` with a plain-text and an HTML
    part, and the headers the module's docstring lists. ``message_id`` is the stored
    ``<…@…>`` id; ``date`` (aware) defaults to now. Raises ValueError when ``msg`` is
    malformed and jinja2's TemplateError when a template cannot be rendered."""
    msg.check()
    text, html = render(msg, settings)
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = Address(addr_spec=msg.to_address)
    message["Subject"] = _one_line(msg.subject)
    message["Date"] = format_datetime(date or datetime.now(UTC))
    message["Message-ID"] = message_id
    if msg.reply_to is not None:
        message["Reply-To"] = Address(addr_spec=msg.reply_to)
    if msg.thread_key is not None:
        root = thread_root_id(msg.thread_key, settings)
        message["In-Reply-To"] = root
        message["References"] = root
    if msg.category is not None:
        message["List-Id"] = f"{msg.category} <{msg.category}.{mail_domain(settings)}>"
    if msg.unsubscribe_url is not None:
        message["List-Unsubscribe"] = f"<{msg.unsubscribe_url}>"
        if msg.unsubscribe_url.startswith("https://"):  # RFC 8058 one-click is HTTPS only
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
