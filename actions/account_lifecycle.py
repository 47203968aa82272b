"""The account lifecycle: a forgotten password reset by mail, a password changed, an
account unlocked, deactivated and reactivated, and a person's own profile.

Password reset, in two steps:

1. ``request_password_reset`` answers the same whether or not the address has an account,
   and does the same work in the request for both: it records a background job (and
   nothing else), which looks the account up, makes a single-use token (only its hash is
   kept, valid 30 minutes; an earlier link of the account stops working) and queues the
   mail. Requests are limited per address asked for and per client address, in the store
   of the sign-in limits (so across every process with Redis).
2. ``reset_password`` spends the token: the new password is set (the same rules as
   everywhere), every session of the account ends (refresh tokens, access tokens, open
   websockets in every process), and the sign-in locks of the account are lifted (the
   owner proved they read its mail).

A reset also revokes the account's access tokens for machines (one made by whoever knew
the old password must not outlive it); a password change keeps them.

Deactivation ends every session and open websocket of the account at once, revokes its
access tokens for machines, and keeps it from signing in, refreshing or using a token
(``is_active``, read by the one query that loads the user on every channel:
domain/auth.py). Reactivation lets it sign in again;
what it lost (sessions, access tokens, project memberships when it was removed as a
contact) stays lost.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any

from actions._common import NAME_MAX_LENGTH, audit, name_text, now
from actions.accounts import normalise_email
from actions.jobs import JobContext, enqueue, job_handler
from actions.mail import queue_mail
from actions.unit_of_work import unit_of_work
from domain import policy, profile
from domain.availability import required_service
from domain.errors import (
    BadUserInput,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    ServiceUnavailable,
)
from domain.mail import OutgoingMessage
from domain.passwords import check_strength, hash_password, verify_password
from domain.throttle import LoginThrottle, RateLimit, client_key
from domain.tokens import hash_opaque_token, new_opaque_token
from domain.wording import duration
from models import AccessToken, PasswordResetToken, RefreshToken, User
from realtime.bus import EventBus

log = logging.getLogger(__name__)

RESET_TTL = timedelta(minutes=30)
RESET_JOB = "accounts.password_reset"
RESET_TEMPLATE = "password_reset"
RESET_WINDOW = 15 * 60
RESETS_PER_ADDRESS = 3  # mails asked for one email address within the window
RESETS_PER_CLIENT = 10  # requests from one client address within the window
RESET_TRIES_PER_CLIENT = 20  # tokens tried from one client address within the window
_UNUSABLE_LINK = "This link is unknown, used or expired. Ask for a new one."


def _too_many(what: str) -> RateLimited:
    return RateLimited(
        f"Too many {what}. Try again in {duration(RESET_WINDOW)}.", retryAfter=RESET_WINDOW
    )


async def _within(throttle: LoginThrottle, name: str, most: int, key: str) -> bool:
    with required_service():
        return await RateLimit(throttle.store, name, most, RESET_WINDOW).take(key) is not None


def _for_field(error: BadUserInput, field: str) -> BadUserInput:
    return BadUserInput(error.message, field=field)


async def _revoke_access_tokens(user_id: int) -> int:
    """Revoke the user's live access tokens for machines; how many."""
    return int(
        await AccessToken.filter(user_id=user_id, revoked_at__isnull=True).update(revoked_at=now())
    )


# -- password reset -------------------------------------------------------------------


async def request_password_reset(email: str, client_address: str, throttle: LoginThrottle) -> None:
    """Mail a link to set a new password to ``email`` if it is an active account's; the
    same (no) answer otherwise. BAD_USER_INPUT for a malformed address; RATE_LIMITED beyond
    3 requests for one address or 10 from one client address within 15 minutes."""
    address = normalise_email(email)
    if not await _within(
        throttle, "password-reset-client", RESETS_PER_CLIENT, client_key(client_address)
    ):
        raise _too_many("password reset requests from your network")
    if not await _within(throttle, "password-reset-account", RESETS_PER_ADDRESS, address):
        raise _too_many("password reset requests for this address")
    digest = hashlib.sha256(address.encode()).hexdigest()[:32]
    async with unit_of_work():
        # one pending mail per address: asking again before it went out replaces it
        await enqueue(
            RESET_JOB,
            {"email": address, "clientAddress": client_address},
            key=f"password-reset:{digest}",
        )


@job_handler(RESET_JOB, max_attempts=5)
async def mail_password_reset(ctx: JobContext, payload: dict[str, Any]) -> None:
    """The background half of :func:`request_password_reset`."""
    user = await User.get_or_none(email=str(payload["email"]), is_active=True)
    if user is None:
        return
    token = new_opaque_token()
    async with unit_of_work():
        await PasswordResetToken.filter(user_id=user.id).delete()  # earlier links stop working
        await PasswordResetToken.create(
            user_id=user.id,
            token_hash=hash_opaque_token(token),
            expires_at=ctx.now + RESET_TTL,
        )
        await queue_mail(
            OutgoingMessage(
                to_address=user.email,
                to_user_id=user.id,
                template=RESET_TEMPLATE,
                subject="Set a new password",
                context={
                    "name": user.name,
                    "email": user.email,
                    "token": token,
                    "minutes": int(RESET_TTL.total_seconds() // 60),
                },
            )
        )
        await audit(
            "password.reset_mailed",
            actor=user,
            target=f"user:{user.id}",
            client_address=str(payload.get("clientAddress") or ""),
        )


async def reset_password(
    token: str,
    new_password: str,
    client_address: str,
    throttle: LoginThrottle,
    bus: EventBus | None = None,
) -> User:
    """Set a new password with a mailed token; every session of the account ends and its
    sign-in locks are lifted. BAD_USER_INPUT (field ``token``) for an unknown, used or
    expired token or a deactivated account, one answer for all; a weak password is
    BAD_USER_INPUT (field ``newPassword``) and leaves the token usable; RATE_LIMITED beyond
    20 tries from one client address within 15 minutes."""
    if not await _within(
        throttle, "password-reset-try", RESET_TRIES_PER_CLIENT, client_key(client_address)
    ):
        raise _too_many("password reset attempts from your network")
    async with unit_of_work(bus) as work:
        row = (
            await PasswordResetToken.filter(token_hash=hash_opaque_token(token))
            .select_for_update()
            .first()
        )
        if row is None or row.used_at is not None or row.expires_at <= now():
            raise BadUserInput(_UNUSABLE_LINK, field="token")
        user = await User.get_or_none(id=row.user_id, is_active=True)
        if user is None:
            raise BadUserInput(_UNUSABLE_LINK, field="token")
        try:
            check_strength(new_password, email=user.email)
        except BadUserInput as error:
            raise _for_field(error, "newPassword") from None
        row.used_at = now()
        await row.save(update_fields=["used_at"])
        user.password_hash = hash_password(new_password)
        await user.save(update_fields=["password_hash"])
        ended = await RefreshToken.filter(user_id=user.id, revoked_at=None).update(revoked_at=now())
        revoked = await _revoke_access_tokens(user.id)
        await audit(
            "password.reset",
            actor=user,
            target=f"user:{user.id}",
            client_address=client_address,
            sessions_ended=ended,
            tokens_revoked=revoked,
        )
        work.sessions_ended(user.id)
    try:  # the password is set: a store away for a moment must not say otherwise
        await throttle.unlock(user.email)
    except ServiceUnavailable:
        log.warning("The sign-in locks of user %s could not be lifted after a reset", user.id)
    return user


# -- the signed-in person -------------------------------------------------------------


async def change_password(
    viewer: User,
    current_password: str,
    new_password: str,
    *,
    session_id: str | None,
    client_address: str,
    throttle: LoginThrottle,
    bus: EventBus | None = None,
) -> int:
    """Change the viewer's password, given the current one; every other session of theirs
    ends at once (refresh tokens, access tokens, open websockets), the one asking
    (``session_id``) goes on. Returns how many sessions ended. A wrong current password is
    BAD_USER_INPUT (field ``currentPassword``), audited and counted against the sign-in
    limits (RATE_LIMITED when they hold); a weak or unchanged new one BAD_USER_INPUT (field
    ``newPassword``)."""
    await throttle.check(viewer.email, client_address)
    if not verify_password(viewer.password_hash, current_password):
        await audit(
            "password.change_failed",
            actor=viewer,
            target=f"user:{viewer.id}",
            client_address=client_address,
        )
        await throttle.failed(viewer.email, client_address)
        raise BadUserInput("The current password is wrong.", field="currentPassword")
    try:
        check_strength(new_password, email=viewer.email)
    except BadUserInput as error:
        raise _for_field(error, "newPassword") from None
    if verify_password(viewer.password_hash, new_password):
        raise BadUserInput(
            "The new password is your current one: choose another.", field="newPassword"
        )
    async with unit_of_work(bus) as work:
        viewer.password_hash = hash_password(new_password)
        await viewer.save(update_fields=["password_hash"])
        others = RefreshToken.filter(user_id=viewer.id, revoked_at=None)
        if session_id is not None:
            others = others.exclude(family=session_id)
        ended = await others.update(revoked_at=now())
        await PasswordResetToken.filter(user_id=viewer.id).delete()
        await audit(
            "password.changed",
            actor=viewer,
            target=f"user:{viewer.id}",
            client_address=client_address,
            sessions_ended=ended,
        )
        work.sessions_ended(viewer.id)  # each socket checks its own session: this one stays
    return int(ended)


async def update_profile(
    viewer: User,
    *,
    name: str | None = None,
    time_zone: str | None = None,
    locale: str | None = None,
) -> User:
    """Change the viewer's display name, time zone (IANA) or locale (BCP 47); None leaves
    one as it is. BAD_USER_INPUT naming ``displayName``, ``timeZone`` or ``locale`` for an
    invalid value; nothing is changed then."""
    changes: dict[str, str] = {}
    if name is not None:
        changes["name"] = name_text(name, "displayName", NAME_MAX_LENGTH)
    if time_zone is not None:
        changes["time_zone"] = profile.time_zone(time_zone)
    if locale is not None:
        changes["locale"] = profile.locale(locale)
    if not changes:
        return viewer
    async with unit_of_work():
        await User.filter(id=viewer.id).update(**changes)
        for key, value in changes.items():
            setattr(viewer, key, value)
        await audit(
            "profile.updated", actor=viewer, target=f"user:{viewer.id}", fields=sorted(changes)
        )
    return viewer


# -- administrators -------------------------------------------------------------------


async def _account(admin: User, user_id: int, what: str) -> User:
    if not policy.is_admin(admin):
        raise Forbidden(f"Only administrators may {what}.")
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise NotFound("user", looked_up=(User, user_id))
    return user


async def unlock_user(
    admin: User, *, user_id: int, throttle: LoginThrottle, client_address: str = ""
) -> User:
    """Lift every sign-in lock and wait on the account (administrators; audited)."""
    user = await _account(admin, user_id, "unlock accounts")
    await throttle.unlock(user.email)
    async with unit_of_work():
        await audit(
            "user.unlocked", actor=admin, target=f"user:{user.id}", client_address=client_address
        )
    return user


async def deactivate_user(
    admin: User, *, user_id: int, client_address: str = "", bus: EventBus | None = None
) -> User:
    """Deactivate an account (administrators; audited): it can no longer sign in, refresh
    or use a token, and every session and open websocket of it ends at once. Deactivating
    a deactivated account changes nothing; one's own is BAD_USER_INPUT."""
    user = await _account(admin, user_id, "deactivate accounts")
    if user.id == admin.id:
        raise BadUserInput(
            "You cannot deactivate your own account; ask another administrator.", field="userId"
        )
    if not user.is_active:
        return user
    async with unit_of_work(bus) as work:
        user.is_active = False
        user.deactivated_at = now()
        await user.save(update_fields=["is_active", "deactivated_at"])
        ended = await RefreshToken.filter(user_id=user.id, revoked_at=None).update(revoked_at=now())
        revoked = await _revoke_access_tokens(user.id)
        await PasswordResetToken.filter(user_id=user.id).delete()
        await audit(
            "user.deactivated",
            actor=admin,
            target=f"user:{user.id}",
            client_address=client_address,
            sessions_ended=ended,
            tokens_revoked=revoked,
        )
        work.sessions_ended(user.id)
    return user


async def reactivate_user(admin: User, *, user_id: int, client_address: str = "") -> User:
    """Let a deactivated (or removed) account sign in again (administrators; audited).
    Sessions and project memberships it lost stay lost."""
    user = await _account(admin, user_id, "reactivate accounts")
    if user.is_active:
        return user
    if user.erased_at is not None:
        raise Conflict("This person's data was erased: the account can never sign in again.")
    async with unit_of_work():
        user.is_active = True
        user.deactivated_at = None
        await user.save(update_fields=["is_active", "deactivated_at"])
        await audit(
            "user.reactivated", actor=admin, target=f"user:{user.id}", client_address=client_address
        )
    return user
