"""Access tokens (short-lived JWTs) and opaque refresh tokens (stored only as hashes)."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from jose import JWTError, jwt

from app.settings import Settings

ALGORITHM = "HS256"
MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    expires_at: int


def issue_access_token(settings: Settings, user_id: int, *, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": str(user_id),
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + settings.access_token_ttl,
        "jti": secrets.token_hex(8),
    }
    return str(jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM))


def decode_access_token(settings: Settings, token: str) -> AccessClaims | None:
    """The token's claims when it is valid in every respect, otherwise None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        claims = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],
            audience=settings.token_audience,
            issuer=settings.token_issuer,
            options={
                "require_exp": True,
                "require_iat": True,
                "require_sub": True,
                "require_aud": True,
                "require_iss": True,
            },
        )
        return AccessClaims(user_id=int(claims["sub"]), expires_at=int(claims["exp"]))
    except (JWTError, KeyError, ValueError, TypeError):
        return None


DOWNLOAD_TTL = 300


def _download_audience(settings: Settings) -> str:
    return f"{settings.token_audience}:download"


def issue_download_token(
    settings: Settings, user_id: int, attachment_id: int, *, now: float | None = None
) -> str:
    """A short-lived token for one user to fetch one attachment (a link a browser can
    follow). Its audience differs from access tokens', so neither stands in for the other."""
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": str(user_id),
        "att": attachment_id,
        "iss": settings.token_issuer,
        "aud": _download_audience(settings),
        "iat": issued,
        "exp": issued + DOWNLOAD_TTL,
    }
    return str(jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM))


def decode_download_token(settings: Settings, token: str) -> tuple[int, int] | None:
    """(user id, attachment id) of a valid download token, otherwise None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        claims = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],
            audience=_download_audience(settings),
            issuer=settings.token_issuer,
            options={"require_exp": True, "require_sub": True, "require_aud": True},
        )
        return int(claims["sub"]), int(claims["att"])
    except (JWTError, KeyError, ValueError, TypeError):
        return None


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def hash_opaque_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
