"""Access tokens for machines: their format, and the scopes that bound what they may do.

Format (as GitHub's tokens): ``xnt_pat_`` (a person's own token) or ``xnt_sat_`` (a
service account's), 30 random base62 characters, and 6 base62 characters of the CRC32 of
everything before them, so that a secret scanner recognises a leaked token by
:data:`TOKEN_PATTERN` and checks its checksum without asking the server. Only the SHA-256
of a token is stored.

Scopes: ``<area>:read`` or ``<area>:write`` for each of :data:`AREAS`; ``write`` includes
``read``. A token acts as its user (or service account) and may do only what both their
rights and its scopes allow. Each root field of the API names the scope a token needs
(``@tokenScope`` in the SDL): an area's read or write scope, :data:`ANY_TOKEN` (the
caller's own things: ``me``, notifications, watches) or :data:`NO_TOKEN` (signing in,
second factors, tokens themselves, the audit log: a signed-in session only).
"""

from __future__ import annotations

import re
import secrets
import string
import zlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from domain.errors import BadUserInput, Forbidden

AREAS = (
    "customers",
    "projects",
    "pages",
    "requests",
    "business_documents",
    "documents",
    "webhooks",
)
"""The areas a scope names: ``projects`` covers timelines (posts, topics, status)."""

ACCESS = ("read", "write")
ALL_SCOPES = tuple(f"{area}:{access}" for area in AREAS for access in ACCESS)
ANY_TOKEN = "any"  # noqa: S105 (a scope, not a secret)
NO_TOKEN = "none"  # noqa: S105 (a scope, not a secret)

PERSONAL_PREFIX = "xnt_pat_"
SERVICE_PREFIX = "xnt_sat_"
_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
_RANDOM_LENGTH = 30
_CHECKSUM_LENGTH = 6
TOKEN_PATTERN = re.compile(r"\bxnt_(?:pat|sat)_[0-9A-Za-z]{36}\b")
"""What a secret scanner looks for; :func:`checksum_ok` then tells tokens from noise."""

MAX_LIFETIME = timedelta(days=366)
"""The longest a token may be valid (a year, a leap year's day included)."""
LAST_USED_EVERY = timedelta(minutes=5)
"""``lastUsedAt`` is written at most this often (and when the address is new)."""
KNOWN_ADDRESSES = 20


def _base62(number: int, length: int) -> str:
    digits = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECKSUM_LENGTH)


def new_token(*, service: bool) -> str:
    """A fresh token: prefix, 30 random base62 characters (178 bits), checksum."""
    prefix = SERVICE_PREFIX if service else PERSONAL_PREFIX
    body = prefix + "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LENGTH))
    return body + _checksum(body)


def looks_like_token(token: str) -> bool:
    """Whether ``token`` has our tokens' prefix (it is never a session's JWT then)."""
    return token.startswith((PERSONAL_PREFIX, SERVICE_PREFIX))


def checksum_ok(token: str) -> bool:
    """Whether ``token`` has the format and its checksum matches (no database needed)."""
    if TOKEN_PATTERN.fullmatch(token) is None:
        return False
    return _checksum(token[:-_CHECKSUM_LENGTH]) == token[-_CHECKSUM_LENGTH:]


def display_prefix(token: str) -> str:
    """The part of a token shown in lists to recognise it: prefix and 4 characters."""
    return token[: len(PERSONAL_PREFIX) + 4]


def normalise_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes, each checked (BAD_USER_INPUT naming an unknown one), once, sorted."""
    cleaned = sorted({scope.strip() for scope in scopes})
    for scope in cleaned:
        if scope not in ALL_SCOPES:
            raise BadUserInput(
                f"{scope!r} is not a scope: use <area>:read or <area>:write, with the area "
                f"one of {', '.join(AREAS)}.",
                field="scopes",
            )
    if not cleaned:
        raise BadUserInput("Give the token at least one scope.", field="scopes")
    return cleaned


def check_expiry(expires_at: datetime, now: datetime) -> datetime:
    """An expiry in the future and at most a year away; BAD_USER_INPUT otherwise."""
    if expires_at.tzinfo is None:
        raise BadUserInput("Give expiresAt with its time zone offset.", field="expiresAt")
    if expires_at <= now:
        raise BadUserInput("expiresAt must be in the future.", field="expiresAt")
    if expires_at - now > MAX_LIFETIME:
        raise BadUserInput(
            "A token is valid for a year at most: choose an earlier expiresAt.",
            field="expiresAt",
        )
    return expires_at


def grants(scopes: Iterable[str], needed: str) -> bool:
    """Whether ``scopes`` allow what ``needed`` names (write includes read)."""
    if needed == ANY_TOKEN:
        return True
    if needed == NO_TOKEN:
        return False
    held = set(scopes)
    area, _, access = needed.partition(":")
    return needed in held or (access == "read" and f"{area}:write" in held)


def missing_scope(needed: str) -> Forbidden:
    """FORBIDDEN for a token without ``needed``: ``extensions.missingScope`` names it (or
    ``reason`` ``SESSION_ONLY`` where no token may act)."""
    if needed == NO_TOKEN:
        return Forbidden(
            "Access tokens may not do this: sign in as a person instead.", reason="SESSION_ONLY"
        )
    return Forbidden(
        f"This access token lacks the scope {needed}: create a token that has it.",
        missingScope=needed,
    )


def require_scope(scopes: Iterable[str] | None, needed: str) -> None:
    """Nothing for a signed-in session (``scopes`` None) or a token with ``needed``;
    :func:`missing_scope` otherwise."""
    if scopes is not None and not grants(scopes, needed):
        raise missing_scope(needed)
