"""Signed tokens (short-lived JWTs) and opaque refresh tokens (stored only as hashes).

Every JWT names its signing key in the ``kid`` header. New tokens are signed with
``EXTRANET_SECRET_KEY``; tokens signed with a key listed in
``EXTRANET_PREVIOUS_SECRET_KEYS`` stay valid until they expire, so a key is rotated
without signing anyone out. A token without a ``kid``, with an unknown one, with any
algorithm but HS256, or failing any claim check is refused.

Access tokens and download links name the sign-in session they belong to (``sid``, the
refresh-token family): ending that session ends them at once, not when they expire.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from jose import JWTError, jwt

from infra.settings import Settings

ALGORITHM = "HS256"
MAX_TOKEN_LENGTH = 4096
DOWNLOAD_TTL = 300
SECOND_FACTOR_TTL = 300


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    session_id: str
    expires_at: int  # Unix time, seconds


class DownloadKind(StrEnum):
    """The kind of file a download link opens: a link of one kind is refused by every other
    kind's route, even for the same numeric ID."""

    ATTACHMENT = "attachment"  # a page's attachment (one version)
    REQUEST_FILE = "request-file"  # a file of a request
    LIBRARY_VERSION = "library-version"  # a version of a library document
    BUSINESS_DOCUMENT_PDF = "business-document-pdf"  # the PDF of a business document
    PERSONAL_DATA_EXPORT = "personal-data-export"  # a ZIP of a person's data


@dataclass(frozen=True, slots=True)
class DownloadClaims:
    user_id: int
    session_id: str
    kind: DownloadKind
    file_id: int


def _sign(settings: Settings, claims: dict[str, Any]) -> str:
    headers = {"kid": settings.signing_key_id}
    return str(jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM, headers=headers))


def _verified(
    settings: Settings,
    token: str,
    audience: str,
    required: tuple[str, ...],
    *,
    check_expiry: bool = True,
) -> dict[str, Any] | None:
    """The claims of a token signed by one of our keys and valid in every respect (but for
    its expiry when not ``check_expiry``)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            return None
        key = settings.verification_keys.get(str(header.get("kid")))
        if key is None:
            return None
        # (a required claim is always verified: an unchecked expiry is read by the caller)
        options = {"require_exp": check_expiry, "require_aud": True, "require_iss": True}
        options["verify_exp"] = check_expiry
        options.update({f"require_{claim}": True for claim in required})
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=settings.token_issuer,
            options=options,
        )
    except (JWTError, KeyError, ValueError, TypeError, AttributeError):
        return None
    return dict(claims)


def _claims(
    settings: Settings, user_id: int, audience: str, ttl: int, now: float | None
) -> dict[str, Any]:
    issued = int(now if now is not None else time.time())
    return {
        "sub": str(user_id),
        "iss": settings.token_issuer,
        "aud": audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
        "jti": secrets.token_hex(8),
    }


def _session_id(claims: dict[str, Any]) -> str | None:
    sid = claims.get("sid")
    return sid if isinstance(sid, str) and sid else None


def issue_access_token(
    settings: Settings, user_id: int, session_id: str, *, now: float | None = None
) -> str:
    """An access token of the user's sign-in session ``session_id`` (its refresh-token
    family), valid for ``settings.access_token_ttl`` seconds."""
    claims = _claims(settings, user_id, settings.token_audience, settings.access_token_ttl, now)
    claims["sid"] = session_id
    return _sign(settings, claims)


VERIFIED_ACCESS_TOKENS = 1024
_verified_access: OrderedDict[tuple[str, str, tuple[str, ...], str, str], AccessClaims] = (
    OrderedDict()
)


def decode_access_token(settings: Settings, token: str) -> AccessClaims | None:
    """The token's claims when it is valid in every respect (a session named included),
    otherwise None. Whether the session is still live is the database's to say.

    The claims of the last :data:`VERIFIED_ACCESS_TOKENS` tokens found valid are kept, keyed
    by the token and the keys, audience and issuer it was checked against (a client sends
    the same token with every request until it renews it: checking its signature cost about
    50 µs each time); a kept token's expiry is checked again at each call, as the signature's
    check does (valid up to and including the second of its ``exp``)."""
    key = (
        token,
        settings.secret_key,
        settings.previous_secret_keys,
        settings.token_audience,
        settings.token_issuer,
    )
    kept = _verified_access.get(key)
    if kept is not None:
        if kept.expires_at >= int(time.time()):
            _verified_access.move_to_end(key)
            return kept
        del _verified_access[key]
        return None
    decoded = _decode_access_token(settings, token)
    if decoded is not None:
        _verified_access[key] = decoded
        if len(_verified_access) > VERIFIED_ACCESS_TOKENS:
            _verified_access.popitem(last=False)
    return decoded


def _decode_access_token(settings: Settings, token: str) -> AccessClaims | None:
    claims = _verified(settings, token, settings.token_audience, ("iat", "sub"))
    session_id = _session_id(claims) if claims is not None else None
    if claims is None or session_id is None:
        return None
    try:
        return AccessClaims(
            user_id=int(claims["sub"]), session_id=session_id, expires_at=int(claims["exp"])
        )
    except (KeyError, ValueError, TypeError):
        return None


def access_token_expired(settings: Settings, token: str, *, now: float | None = None) -> bool:
    """Whether ``token`` is an access token of ours, valid in every respect but that it has
    expired: its holder renews it (``refreshSession``) instead of signing in again."""
    claims = _verified(settings, token, settings.token_audience, ("iat", "sub"), check_expiry=False)
    if claims is None or _session_id(claims) is None:
        return False
    try:
        return int(claims["exp"]) <= (now if now is not None else time.time())
    except (KeyError, ValueError, TypeError):
        return False


def _download_audience(settings: Settings) -> str:
    return f"{settings.token_audience}:download"


def issue_download_token(
    settings: Settings,
    user_id: int,
    session_id: str,
    file_id: int,
    *,
    kind: DownloadKind,
    now: float | None = None,
) -> str:
    """A short-lived token (DOWNLOAD_TTL seconds) for one user to fetch the file ``file_id``
    of ``kind`` (a link a browser can follow) while their session ``session_id`` lasts. Its
    audience differs from access tokens', so neither stands in for the other."""
    claims = _claims(settings, user_id, _download_audience(settings), DOWNLOAD_TTL, now)
    claims["kind"] = kind.value
    claims["att"] = file_id
    claims["sid"] = session_id
    return _sign(settings, claims)


def decode_download_token(
    settings: Settings, token: str, kind: DownloadKind
) -> DownloadClaims | None:
    """The claims of a valid download token of ``kind``, otherwise None (a token of another
    kind included)."""
    claims = _verified(settings, token, _download_audience(settings), ("sub",))
    session_id = _session_id(claims) if claims is not None else None
    if claims is None or session_id is None or claims.get("kind") != kind.value:
        return None
    try:
        return DownloadClaims(
            user_id=int(claims["sub"]), session_id=session_id, kind=kind, file_id=int(claims["att"])
        )
    except (KeyError, ValueError, TypeError):
        return None


def _second_factor_audience(settings: Settings, purpose: str) -> str:
    return f"{settings.token_audience}:{purpose}"


def issue_second_factor_token(
    settings: Settings, user_id: int, purpose: str, *, now: float | None = None
) -> str:
    """Proof that the password was right, good for SECOND_FACTOR_TTL seconds and for
    ``purpose`` only (``mfa-login``: give a code; ``mfa-enrol``: set up a second factor)."""
    audience = _second_factor_audience(settings, purpose)
    return _sign(settings, _claims(settings, user_id, audience, SECOND_FACTOR_TTL, now))


def decode_second_factor_token(settings: Settings, token: str, purpose: str) -> int | None:
    """The user ID of a valid token for ``purpose``, otherwise None."""
    claims = _verified(settings, token, _second_factor_audience(settings, purpose), ("sub",))
    try:
        return int(claims["sub"]) if claims is not None else None
    except (KeyError, ValueError, TypeError):
        return None


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def hash_opaque_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
