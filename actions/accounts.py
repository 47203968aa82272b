"""Users, sign-in sessions with rotating refresh tokens, and contact invitations."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from tortoise.expressions import Q

from actions import mfa, security_alerts, sign_ins
from actions._common import NAME_MAX_LENGTH, audit, invisible_control, name_text, now
from actions.unit_of_work import unit_of_work
from domain import policy
from domain.errors import (
    BadUserInput,
    Conflict,
    Forbidden,
    MfaEnrolmentRequired,
    MfaRequired,
    Unauthenticated,
)
from domain.passwords import check_strength, hash_password, verify_password
from domain.throttle import LoginThrottle, client_key
from domain.tokens import (
    decode_second_factor_token,
    hash_opaque_token,
    issue_access_token,
    issue_second_factor_token,
    new_opaque_token,
)
from infra.settings import Settings
from models import (
    Customer,
    Project,
    ProjectMembership,
    RefreshToken,
    Role,
    SecurityRule,
    User,
)
from realtime.bus import EventBus

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
INVITATION_TTL = timedelta(days=14)
MFA_LOGIN = "mfa-login"
MFA_ENROL = "mfa-enrol"


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    session_id: str  # the refresh-token family; the access token names it
    access_token: str
    refresh_token: str
    access_token_expires_in: int


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    if len(cleaned) > 254 or not _EMAIL.match(cleaned) or invisible_control(cleaned):
        raise BadUserInput("That is not a valid email address.", field="email")
    return cleaned


async def unique_handle(email: str, customer_id: int | None) -> str:
    """A handle from the address's local part (``gina``, else ``gina2``, ...), unique among
    the people who can mention each other: a contact's among their customer's contacts and
    the staff, a staff member's among everybody. A handle taken only at another customer
    never changes the one given, so a handle tells nothing about other customers."""
    base = re.sub(r"[^a-z0-9._-]", "", email.split("@")[0].lower()).strip("._-")[:32] or "user"
    peers = User.all()
    if customer_id is not None:
        peers = User.filter(Q(customer_id=customer_id) | Q(customer_id=None))
    handle, n = base, 1
    while await peers.filter(handle=handle).exists():
        n += 1
        handle = f"{base}{n}"
    return handle


async def create_user(
    *,
    email: str,
    name: str,
    role: Role,
    password: str | None,
    customer: Customer | None = None,
) -> User:
    """Create an account; staff roles have no customer, customer roles need one."""
    email = normalise_email(email)
    name = name_text(name, "name", NAME_MAX_LENGTH)
    if role.is_staff and customer is not None:
        raise BadUserInput("Staff and administrators do not belong to a customer.")
    if not role.is_staff and customer is None:
        raise BadUserInput("A customer contact needs the customer they belong to.")
    if password is not None:
        check_strength(password, email=email)
    if await User.exists(email=email):
        raise Conflict("An account with this email address already exists.", field="email")
    user = await User.create(
        email=email,
        handle=await unique_handle(email, customer.id if customer else None),
        name=name,
        role=role,
        customer_id=customer.id if customer else None,
        password_hash=hash_password(password) if password is not None else None,
    )
    await audit("user.created", target=f"user:{user.id}", role=role.value)
    return user


async def _issue_session(settings: Settings, user: User, family: str | None = None) -> Session:
    refresh = new_opaque_token()
    family = family or secrets.token_hex(16)
    await RefreshToken.create(
        user_id=user.id,
        token_hash=hash_opaque_token(refresh),
        family=family,
        expires_at=now() + timedelta(seconds=settings.refresh_token_ttl),
    )
    return Session(
        user=user,
        session_id=family,
        access_token=issue_access_token(settings, user.id, family),
        refresh_token=refresh,
        access_token_expires_in=settings.access_token_ttl,
    )


_BAD_LOGIN = "The email address or password is wrong."


async def login(
    settings: Settings,
    email: str,
    password: str,
    client_address: str,
    throttle: LoginThrottle | None = None,
) -> Session:
    """Sign in; a wrong password and an unknown email answer alike, in the same time, and
    too many failures for an account or from an address lock further tries for a while."""
    if throttle is not None:
        await throttle.check(email, client_address)
    user = await User.get_or_none(email=email.strip().lower(), is_active=True)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        await audit(
            "login.failed",
            actor=user,
            target=f"user:{user.id}" if user else "",
            client_address=client_address,
        )
        if throttle is not None:
            await throttle.failed(email, client_address)
            await security_alerts.count(
                throttle.store,
                settings,
                SecurityRule.FAILED_SIGN_INS,
                f"address:{client_key(client_address)}",
                user_id=None,
                address=client_address,
            )
        raise Unauthenticated(_BAD_LOGIN)
    if user.totp_secret:
        # the password alone signs no one in: failures of the second step count against
        # the same limits, so they are cleared only when it passes
        await audit(
            "login.password_accepted",
            actor=user,
            target=f"user:{user.id}",
            client_address=client_address,
        )
        raise MfaRequired(
            "Enter the code from your authenticator app (or a recovery code) with completeLogin.",
            mfaToken=issue_second_factor_token(settings, user.id, MFA_LOGIN),
        )
    if await mfa.must_use_mfa(user):
        raise MfaEnrolmentRequired(
            "This account must use two-factor sign-in: set it up with enrollTotp and confirmTotp.",
            enrolmentToken=issue_second_factor_token(settings, user.id, MFA_ENROL),
        )
    return await _signed_in(settings, user, client_address, throttle, mfa=False)


async def _signed_in(
    settings: Settings,
    user: User,
    client_address: str,
    throttle: LoginThrottle | None,
    *,
    mfa: bool,
) -> Session:
    if throttle is not None:
        await throttle.succeeded(user.email, client_address)
    user.last_login_at = now()
    await user.save(update_fields=["last_login_at"])
    await audit(
        "login", actor=user, target=f"user:{user.id}", client_address=client_address, mfa=mfa
    )
    await sign_ins.note_sign_in(settings, user, client_address)
    return await _issue_session(settings, user)


async def complete_login(
    settings: Settings,
    mfa_token: str,
    code: str,
    client_address: str,
    throttle: LoginThrottle | None = None,
) -> Session:
    """The second step of signing in: the token from ``MFA_REQUIRED`` and a code."""
    user_id = decode_second_factor_token(settings, mfa_token, MFA_LOGIN)
    user = await User.get_or_none(id=user_id, is_active=True) if user_id else None
    if user is None:
        raise Unauthenticated("This sign-in has expired. Sign in again with your password.")
    if await mfa.failed_proof(user, code, client_address, throttle, failure="login.failed"):
        raise Unauthenticated("That code is wrong, expired or used already.")
    return await _signed_in(settings, user, client_address, throttle, mfa=True)


async def enrolling_user(
    settings: Settings, viewer: User | None, enrolment_token: str | None
) -> User:
    """Who is setting up a second factor: the signed-in viewer, or the holder of the
    token that ``MFA_ENROLMENT_REQUIRED`` gave."""
    if enrolment_token:
        user_id = decode_second_factor_token(settings, enrolment_token, MFA_ENROL)
        user = await User.get_or_none(id=user_id, is_active=True) if user_id else None
        if user is None or user.totp_secret:  # spent once a second factor is on
            raise Unauthenticated("This sign-in has expired. Sign in again with your password.")
        return user
    if viewer is None:
        raise Unauthenticated("Sign in, or give the enrolmentToken from MFA_ENROLMENT_REQUIRED.")
    return viewer


async def start_enrolment(
    settings: Settings,
    viewer: User | None,
    enrolment_token: str | None,
    password: str | None,
    client_address: str,
    throttle: LoginThrottle | None = None,
) -> mfa.Enrolment:
    """A new authenticator secret for the holder of an enrolment token (who has just given
    the password to sign in), or for the signed-in viewer who gives their password again:
    UNAUTHENTICATED without it, so a session alone cannot set up its own second factor."""
    user = await enrolling_user(settings, viewer, enrolment_token)
    if not enrolment_token:
        await mfa.prove_password(user, password or "", client_address, throttle)
    return await mfa.enroll(settings, user)


async def confirm_enrolment(
    settings: Settings,
    viewer: User | None,
    enrolment_token: str | None,
    code: str,
    client_address: str,
) -> tuple[list[str], Session | None]:
    """Turn two-factor sign-in on; someone signing in with an enrolment token is then
    signed in."""
    user = await enrolling_user(settings, viewer, enrolment_token)
    codes = await mfa.confirm(user, code, client_address)
    if not enrolment_token:
        return codes, None
    return codes, await _signed_in(settings, user, client_address, None, mfa=True)


async def refresh_session(
    settings: Settings, refresh_token: str, bus: EventBus | None = None
) -> Session:
    """Exchange a refresh token for a new pair; reusing a spent one ends the whole session
    (its family): its access tokens and open websockets stop at once."""
    refused = Unauthenticated("The session has ended. Sign in again.")
    async with unit_of_work(bus) as work:
        token = (
            await RefreshToken.filter(token_hash=hash_opaque_token(refresh_token))
            .select_for_update()
            .first()
        )
        if token is None or token.revoked_at is not None or token.expires_at <= now():
            raise refused
        reused = token.used_at is not None
        if reused:
            await RefreshToken.filter(family=token.family).update(revoked_at=now())
            await audit("session.refresh_reused", target=f"user:{token.user_id}")
            work.sessions_ended(token.user_id)
        else:
            token.used_at = now()
            await token.save(update_fields=["used_at"])
            user = await User.get_or_none(id=token.user_id, is_active=True)
            if user is None:
                raise refused
            if not user.totp_secret and await mfa.must_use_mfa(user):
                raise Unauthenticated(
                    "This account must now use two-factor sign-in. Sign in again to set it up."
                )
            session = await _issue_session(settings, user, token.family)
    if reused:
        raise refused
    return session


async def logout(refresh_token: str, bus: EventBus | None = None) -> bool:
    """End the session that the refresh token belongs to: its refresh tokens, the access
    tokens and download links issued in it, and its open websockets (in every process),
    at once. The user's other sessions go on."""
    token = await RefreshToken.get_or_none(token_hash=hash_opaque_token(refresh_token))
    if token is None:
        return False
    async with unit_of_work(bus) as work:
        await RefreshToken.filter(family=token.family, revoked_at=None).update(revoked_at=now())
        await audit("logout", target=f"user:{token.user_id}")
        work.sessions_ended(token.user_id)
    return True


async def remove_contact(actor: User, bus: EventBus, *, user_id: int) -> User:
    """Deactivate a contact: every session ends at once (HTTP, open websockets in every
    process, download links, refresh tokens), project memberships go, their content stays."""
    contact = await policy.get_visible(policy.visible_users(actor), user_id, "user")
    if contact.is_staff or contact.customer_id is None:
        raise BadUserInput("Only customer contacts can be removed this way.", field="userId")
    if not await policy.can_manage_contacts(actor, contact.customer_id):
        raise Forbidden("Only the customer's lead contacts and account team may remove contacts.")
    if contact.id == actor.id:
        raise BadUserInput("You cannot remove yourself; ask another lead contact.")
    async with unit_of_work(bus) as work:
        contact.is_active = False
        contact.deactivated_at = now()
        await contact.save(update_fields=["is_active", "deactivated_at"])
        await RefreshToken.filter(user_id=contact.id, revoked_at=None).update(revoked_at=now())
        memberships = await ProjectMembership.filter(user_id=contact.id).delete()
        await audit(
            "contact.removed",
            actor=actor,
            target=f"user:{contact.id}",
            customer=contact.customer_id,
            memberships=memberships,
        )
        projects = await Project.filter(customer_id=contact.customer_id).values_list(
            "id", flat=True
        )
        work.sessions_ended(contact.id)
        work.rights_changed(project_ids=[int(p) for p in projects], user_ids=[contact.id])  # type: ignore[call-overload]
    return contact
