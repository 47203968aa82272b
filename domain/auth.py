"""Who is asking: a bearer access token and the database together.

The token's user must be active and the sign-in session it names must not have ended
(logout, a reused refresh token, removal), all read with the one query that loads the
user. Every face asks here: the GraphQL context on each HTTP request, the websocket on
``connection_init`` and before each operation, uploads and downloads.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Subquery

from domain.errors import Unauthenticated
from domain.tokens import AccessClaims, access_token_expired, decode_access_token
from infra.settings import Settings
from models import RefreshToken, User

SIGNED_OUT = {
    "TOKEN_MISSING": "Sign in first: send a valid access token.",
    "TOKEN_INVALID": "The access token is not valid: send one from login or refreshSession.",
    "TOKEN_EXPIRED": "The access token has expired: renew it with refreshSession and try again.",
    "SESSION_ENDED": "The session has ended or the account was removed: sign in again.",
}
"""Why a request has no viewer (``extensions.reason`` of UNAUTHENTICATED), and what to do."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    session_id: str
    expires_at: int  # when the access token expires, Unix time in seconds


@dataclass(frozen=True, slots=True)
class Authentication:
    """What a token settles: who is signed in, or why nobody is (a key of
    :data:`SIGNED_OUT`); exactly one of the two is set."""

    signed_in: SignedIn | None
    signed_out: str | None

    def require(self) -> SignedIn:
        """Who is signed in; :class:`Unauthenticated` with ``extensions.reason`` otherwise."""
        if self.signed_in is None:
            raise signed_out_error(self.signed_out or "TOKEN_MISSING")
        return self.signed_in


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value (any case of ``Bearer``);
    None for no value, another scheme or an empty token."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def access_claims(settings: Settings, token: str | None) -> AccessClaims | None:
    """The claims of a valid, unexpired access token; None for no token or any other."""
    return decode_access_token(settings, token) if token else None


def signed_out_reason(
    settings: Settings, token: str | None, signed_in: SignedIn | None
) -> str | None:
    """Why ``token`` signed nobody in (a key of :data:`SIGNED_OUT`); None when it did."""
    if signed_in is not None:
        return None
    if token is None:
        return "TOKEN_MISSING"
    if decode_access_token(settings, token) is not None:
        return "SESSION_ENDED"
    return "TOKEN_EXPIRED" if access_token_expired(settings, token) else "TOKEN_INVALID"


def signed_out_error(reason: str) -> Unauthenticated:
    """UNAUTHENTICATED with ``extensions.reason`` (a key of :data:`SIGNED_OUT`): the client
    renews the access token with ``refreshSession`` for ``TOKEN_EXPIRED``, and signs in
    again for the others."""
    return Unauthenticated(SIGNED_OUT[reason], reason=reason)


async def session_user(user_id: int, session_id: str) -> User | None:
    """The user, if active and their sign-in session ``session_id`` has not ended; one
    query (the session's revocation is a subquery of the user's lookup)."""
    ended = RefreshToken.filter(family=session_id, revoked_at__isnull=False).values("user_id")
    return await User.filter(id=user_id, is_active=True).exclude(id__in=Subquery(ended)).first()


async def session_from_token(settings: Settings, token: str | None) -> SignedIn | None:
    """Who the access token signs in, while they are active and its session lasts."""
    claims = access_claims(settings, token)
    if claims is None:
        return None
    user = await session_user(claims.user_id, claims.session_id)
    return SignedIn(user, claims.session_id, claims.expires_at) if user else None


async def authenticate(settings: Settings, authorization: str | None) -> Authentication:
    """Who an ``Authorization`` header's bearer token signs in, or why nobody."""
    token = bearer_token(authorization)
    signed_in = await session_from_token(settings, token)
    return Authentication(signed_in, signed_out_reason(settings, token, signed_in))
