"""Who is asking: a bearer access token and the database together.

The token's user must be active and the sign-in session it names must not have ended
(logout, a reused refresh token, removal), read with the query that loads the user
(concurrent askers together, :func:`session_user`). Every face asks here: the GraphQL
context on each HTTP request, the websocket on ``connection_init`` and before each
operation, uploads and downloads.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.expressions import Subquery

from domain.errors import Unauthenticated
from domain.scopes import checksum_ok, looks_like_token
from domain.tokens import (
    AccessClaims,
    access_token_expired,
    decode_access_token,
    hash_opaque_token,
)
from infra.batching import Batched
from infra.settings import Settings
from models import AccessToken, RefreshToken, User

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
    # an access token for machines (domain/scopes.py): its row and scopes; None for a session
    token: AccessToken | None = None
    scopes: frozenset[str] | None = None


TOKEN_SESSION = "token:"  # noqa: S105 (a prefix of session ids)
"""The session id of a request signed in with an access token for machines: ``token:<id>``."""


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
    """The user, if active and their sign-in session ``session_id`` has not ended. For an
    access token's session (``token:<id>``): while the token is neither revoked nor expired.
    Concurrent calls are read together (:class:`infra.batching.Batched`: one query for a
    single caller, the session's revocation a subquery of the user's lookup; two or three
    for many), and every read starts after the calls it answers: a session ended before
    the call is ended for it. Each caller gets a user row of its own."""
    user = await _session_users((user_id, session_id))
    return None if user is None else copy(user)


Session = tuple[int, str]
"""A user id and one of their sign-in session ids."""


async def _read_session_users(keys: Sequence[Session]) -> dict[Session, User | None]:
    if len(keys) == 1:
        [(user_id, session_id)] = keys
        return {keys[0]: await _session_user(user_id, session_id)}
    users = {
        user.id: user
        for user in await User.filter(id__in={user_id for user_id, _ in keys}, is_active=True)
    }
    tokens = {
        int(token_id)
        for _, session_id in keys
        if (token_id := session_id.removeprefix(TOKEN_SESSION)) != session_id and token_id.isdigit()
    }
    families = {session_id for _, session_id in keys if not session_id.startswith(TOKEN_SESSION)}
    live: set[tuple[int, int]] = set()
    if tokens:
        rows = await AccessToken.filter(
            id__in=tokens, revoked_at__isnull=True, expires_at__gt=datetime.now(UTC)
        ).values_list("id", "user_id")
        live = {(int(str(token)), int(str(user))) for token, user in rows}
    ended: set[tuple[str, int]] = set()
    if families:
        rows = await RefreshToken.filter(family__in=families, revoked_at__isnull=False).values_list(
            "family", "user_id"
        )
        ended = {(str(family), int(str(user))) for family, user in rows}
    found: dict[Session, User | None] = {}
    for user_id, session_id in keys:
        user = users.get(user_id)
        if user is not None and session_id.startswith(TOKEN_SESSION):
            token_id = session_id.removeprefix(TOKEN_SESSION)
            if not token_id.isdigit() or (int(token_id), user_id) not in live:
                user = None
        elif user is not None and (session_id, user_id) in ended:
            user = None
        found[(user_id, session_id)] = user
    return found


async def _session_user(user_id: int, session_id: str) -> User | None:
    """:func:`session_user` in one query."""
    if session_id.startswith(TOKEN_SESSION):
        token_id = session_id.removeprefix(TOKEN_SESSION)
        live = AccessToken.filter(
            id=int(token_id) if token_id.isdigit() else 0,
            revoked_at__isnull=True,
            expires_at__gt=datetime.now(UTC),
        ).values("user_id")
        return await User.filter(id=user_id, is_active=True, id__in=Subquery(live)).first()
    ended = RefreshToken.filter(family=session_id, revoked_at__isnull=False).values("user_id")
    return await User.filter(id=user_id, is_active=True).exclude(id__in=Subquery(ended)).first()


_session_users: Batched[Session, User | None] = Batched(_read_session_users)


async def access_token_sign_in(token: str) -> SignedIn | None:
    """Who an access token for machines (``xnt_pat_``/``xnt_sat_``) signs in: its user, while
    active and the token is neither revoked nor expired; None otherwise."""
    if not checksum_ok(token):
        return None
    row = (
        await AccessToken.filter(token_hash=hash_opaque_token(token), revoked_at__isnull=True)
        .select_related("user")
        .first()
    )
    if row is None or row.expires_at <= datetime.now(UTC) or not row.user.is_active:
        return None
    expires_at = int(row.expires_at.timestamp())
    return SignedIn(row.user, f"{TOKEN_SESSION}{row.id}", expires_at, row, frozenset(row.scopes))


async def session_from_token(settings: Settings, token: str | None) -> SignedIn | None:
    """Who the access token signs in, while they are active and its session lasts."""
    if token is not None and looks_like_token(token):
        return await access_token_sign_in(token)
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
