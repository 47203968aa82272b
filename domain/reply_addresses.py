"""Signed reply addresses: ``reply+<token>@<domain>``.

A notification mail about one micropost thread, one concept page's comments or one
request carries an address whose token names the user it was sent to, what a reply
answers (:class:`ReplyKind` and the target's id) and when the address expires, signed with
an HMAC-SHA256 of the application's secret key (or one of the previous keys, so rotating
the key keeps addresses in mails already sent working until they expire).

The token is 28 bytes in lower-case base32 (45 characters, so the whole local part stays
within the 64 characters RFC 5321 allows, and survives mail servers that fold case):
version, kind, target id, user id, expiry (Unix seconds), a random nonce and the first 10
bytes of the MAC. Verifying never trusts anything but the MAC; a used token is recorded by
the gateway (``UsedReplyToken``: :func:`digest`), so each address works once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum

from infra.settings import Settings

PREFIX = "reply+"
VERSION = 1
MAC_BYTES = 10
LIFETIME = timedelta(days=30)
_LAYOUT = struct.Struct(">BBIIII")  # version, kind, target, user, expires, nonce
_TOKEN = re.compile(r"[a-z2-7]{45}")


class ReplyKind(IntEnum):
    MICROPOST = 1
    """A reply to the thread of a micropost (target: the post replied to)."""
    PAGE_COMMENT = 2
    """A comment on a concept page (target: the page)."""
    REQUEST = 3
    """A reply in a request's conversation (target: the request)."""


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    kind: ReplyKind
    target_id: int
    user_id: int
    expires_at: datetime


class ReplyRefused(Exception):
    """A reply address that is not one of ours (forged, garbled) or that expired;
    ``reason`` is ``"forged"`` or ``"expired"``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _mac(key: str, body: bytes) -> bytes:
    return hmac.new(key.encode(), b"reply-address\x00" + body, hashlib.sha256).digest()[:MAC_BYTES]


def reply_token(
    settings: Settings, kind: ReplyKind, target_id: int, user_id: int, *, now: datetime
) -> str:
    """A fresh token for ``user_id`` answering ``target_id`` of ``kind``, valid for
    :data:`LIFETIME` from ``now``."""
    expires = int((now + LIFETIME).timestamp())
    body = _LAYOUT.pack(VERSION, kind, target_id, user_id, expires, secrets.randbits(32))
    raw = body + _mac(settings.secret_key, body)
    return base64.b32encode(raw).decode().rstrip("=").lower()


def reply_address(
    settings: Settings, domain: str, kind: ReplyKind, target_id: int, user_id: int, *, now: datetime
) -> str:
    """``reply+<token>@<domain>``."""
    return f"{PREFIX}{reply_token(settings, kind, target_id, user_id, now=now)}@{domain}"


def token_of(address: str) -> str | None:
    """The token of a reply address (``reply+<token>@…``, any case), or None for any
    other address."""
    local, _, _ = address.strip().strip("<>").rpartition("@")
    if not local.lower().startswith(PREFIX):
        return None
    return local[len(PREFIX) :].lower()


def verify(settings: Settings, token: str, *, now: datetime) -> ReplyTarget:
    """What the token names. Raises :class:`ReplyRefused` (``forged``) for a token that is
    malformed or not signed with one of our keys, and (``expired``) after its expiry."""
    if not _TOKEN.fullmatch(token):
        raise ReplyRefused("forged")
    try:
        raw = base64.b32decode(token.upper() + "===")
    except (binascii.Error, ValueError):
        raise ReplyRefused("forged") from None
    if base64.b32encode(raw).decode().rstrip("=").lower() != token:
        raise ReplyRefused("forged")  # another spelling of a token (its unused last bit set)
    body, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
    keys = (settings.secret_key, *settings.previous_secret_keys)
    if len(raw) != _LAYOUT.size + MAC_BYTES or not any(
        hmac.compare_digest(mac, _mac(key, body)) for key in keys
    ):
        raise ReplyRefused("forged")
    version, kind, target_id, user_id, expires, _ = _LAYOUT.unpack(body)
    if version != VERSION or kind not in ReplyKind.__members__.values():
        raise ReplyRefused("forged")
    expires_at = datetime.fromtimestamp(expires, UTC)
    if expires_at <= now:
        raise ReplyRefused("expired")
    return ReplyTarget(ReplyKind(kind), target_id, user_id, expires_at)


def digest(token: str) -> str:
    """What is stored of a used token (SHA-256, hex)."""
    return hashlib.sha256(token.encode()).hexdigest()
