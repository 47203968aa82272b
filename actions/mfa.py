"""Two-factor sign-in: enrolment, confirmation, recovery codes, the second step of
signing in, and the administrators' requirement for staff and for a customer's contacts."""

from __future__ import annotations

from dataclasses import dataclass

from actions._common import audit, now
from actions.unit_of_work import unit_of_work
from domain import policy
from domain.errors import BadUserInput, Conflict, Forbidden, NotFound, Unauthenticated
from domain.passwords import verify_password
from domain.throttle import LoginThrottle
from domain.totp import (
    hash_recovery_code,
    looks_like_totp,
    matching_step,
    new_recovery_codes,
    new_secret,
    provisioning_uri,
)
from infra.settings import Settings
from models import Customer, RecoveryCode, SiteSetting, User

STAFF_REQUIREMENT = "mfa.required_for_staff"
_WRONG_CODE = "That code is wrong, expired or used already."


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    provisioning_uri: str


async def staff_must_use_mfa() -> bool:
    setting = await SiteSetting.get_or_none(key=STAFF_REQUIREMENT)
    return bool(setting and setting.value.get("required"))


async def must_use_mfa(user: User) -> bool:
    """Whether an administrator requires a second factor of this account."""
    if user.role.is_staff:
        return await staff_must_use_mfa()
    return await Customer.filter(id=user.customer_id, mfa_required=True).exists()


_ALREADY_ON = "Two-factor sign-in is on already; turn it off first to change it."


async def enroll(settings: Settings, user: User) -> Enrolment:
    """A new secret to scan; two-factor sign-in is on once a code from it is confirmed.
    Never while it is on (checked in the write itself, so a request racing a confirmation
    cannot slip a secret in)."""
    secret = new_secret()
    if not await User.filter(id=user.id, totp_secret=None).update(totp_pending_secret=secret):
        raise Conflict(_ALREADY_ON)
    user.totp_pending_secret = secret
    return Enrolment(secret, provisioning_uri(secret, user.email, settings.mfa_issuer))


async def _new_recovery_codes(user: User) -> list[str]:
    codes = new_recovery_codes()
    await RecoveryCode.filter(user_id=user.id).delete()
    await RecoveryCode.bulk_create(
        [RecoveryCode(user_id=user.id, code_hash=hash_recovery_code(c)) for c in codes]
    )
    return codes


async def confirm(user: User, code: str, client_address: str = "") -> list[str]:
    """Turn two-factor sign-in on with a code from the enrolled secret; returns the
    recovery codes, shown this once (only their hashes are kept)."""
    if not user.totp_pending_secret:
        raise BadUserInput("Start with enrollTotp: there is no secret to confirm.")
    step = matching_step(user.totp_pending_secret, code)
    if step is None:
        raise BadUserInput(_WRONG_CODE, field="code")
    async with unit_of_work():
        user.totp_secret, user.totp_pending_secret = user.totp_pending_secret, None
        user.totp_enabled_at = now()
        user.totp_last_step = step
        await user.save(
            update_fields=[
                "totp_secret",
                "totp_pending_secret",
                "totp_enabled_at",
                "totp_last_step",
            ]
        )
        codes = await _new_recovery_codes(user)
        await audit(
            "mfa.enabled", actor=user, target=f"user:{user.id}", client_address=client_address
        )
    return codes


async def passes_second_factor(user: User, code: str, client_address: str = "") -> bool:
    """Check a code from the authenticator app (each used once) or a recovery code
    (spent by this use); both checks are atomic, so a code works once even when sent twice
    at the same moment."""
    if not user.totp_secret:
        return False
    if looks_like_totp(code):
        step = matching_step(user.totp_secret, code)
        if step is None:
            return False
        accepted = await User.filter(id=user.id, totp_last_step__lt=step).update(
            totp_last_step=step
        ) or await User.filter(id=user.id, totp_last_step=None).update(totp_last_step=step)
        return bool(accepted)
    spent = await RecoveryCode.filter(
        user_id=user.id, code_hash=hash_recovery_code(code), used_at=None
    ).update(used_at=now())
    if spent:
        left = await RecoveryCode.filter(user_id=user.id, used_at=None).count()
        await audit(
            "mfa.recovery_code_used",
            actor=user,
            target=f"user:{user.id}",
            client_address=client_address,
            left=left,
        )
    return bool(spent)


async def prove_password(
    user: User, password: str, client_address: str, throttle: LoginThrottle | None
) -> None:
    """Refuse with UNAUTHENTICATED unless ``password`` is the account's: a session alone
    (a stolen access token) must not change how the account signs in. A wrong password is
    audited (``mfa.check_failed``) and counts against the sign-in limits."""
    if throttle is not None:
        await throttle.check(user.email, client_address)
    if verify_password(user.password_hash, password):
        return
    await audit(
        "mfa.check_failed",
        actor=user,
        target=f"user:{user.id}",
        client_address=client_address,
        factor="password",
    )
    if throttle is not None:
        await throttle.failed(user.email, client_address)
    raise Unauthenticated("The password is wrong.")


async def failed_proof(
    user: User,
    code: str,
    client_address: str,
    throttle: LoginThrottle | None,
    *,
    failure: str,
    password: str | None = None,
) -> str | None:
    """Check the password (when asked) and a code under the sign-in limits: a stolen
    session or password must not be a way to guess either. None when both pass; otherwise
    which failed ("password" or "code"), audited as ``failure`` and counted."""
    if throttle is not None:
        await throttle.check(user.email, client_address)
    wrong_password = password is not None and not verify_password(user.password_hash, password)
    if not wrong_password and await passes_second_factor(user, code, client_address):
        return None
    factor = "password" if wrong_password else "code"
    await audit(
        failure, actor=user, target=f"user:{user.id}", client_address=client_address, factor=factor
    )
    if throttle is not None:
        await throttle.failed(user.email, client_address)
    return factor


async def _proves_possession(
    user: User,
    code: str,
    client_address: str,
    throttle: LoginThrottle | None,
    password: str | None = None,
) -> None:
    failed = await failed_proof(
        user, code, client_address, throttle, failure="mfa.check_failed", password=password
    )
    if failed == "password":
        raise Unauthenticated("The password or the code is wrong.")
    if failed == "code":
        raise BadUserInput(_WRONG_CODE, field="code")


async def disable(
    user: User,
    password: str,
    code: str,
    client_address: str = "",
    throttle: LoginThrottle | None = None,
) -> None:
    """Turn two-factor sign-in off: needs the password and a current or recovery code."""
    if not user.totp_secret:
        raise BadUserInput("Two-factor sign-in is not on.")
    if await must_use_mfa(user):  # before a code is spent on it
        raise Forbidden("An administrator requires two-factor sign-in for this account.")
    await _proves_possession(user, code, client_address, throttle, password)
    async with unit_of_work():
        await User.filter(id=user.id).update(
            totp_secret=None, totp_pending_secret=None, totp_enabled_at=None, totp_last_step=None
        )
        await RecoveryCode.filter(user_id=user.id).delete()
        await audit(
            "mfa.disabled", actor=user, target=f"user:{user.id}", client_address=client_address
        )


async def regenerate_recovery_codes(
    user: User,
    password: str,
    code: str,
    client_address: str = "",
    throttle: LoginThrottle | None = None,
) -> list[str]:
    """New recovery codes for the password and a current code; the old ones stop working."""
    if not user.totp_secret:
        raise BadUserInput("Two-factor sign-in is not on.")
    await _proves_possession(user, code, client_address, throttle, password)
    async with unit_of_work():
        codes = await _new_recovery_codes(user)
        await audit(
            "mfa.recovery_codes_renewed",
            actor=user,
            target=f"user:{user.id}",
            client_address=client_address,
        )
    return codes


async def require(
    admin: User, *, required: bool, customer_id: int | None, client_address: str = ""
) -> Customer | None:
    """Require (or stop requiring) a second factor of all staff, or of one customer's
    contacts. Accounts without one are asked to set it up at their next sign-in."""
    if not policy.is_admin(admin):
        raise Forbidden("Only administrators may change who must use two-factor sign-in.")
    async with unit_of_work():
        if customer_id is None:
            await SiteSetting.update_or_create(
                key=STAFF_REQUIREMENT, defaults={"value": {"required": required}}
            )
            target, customer = "staff", None
        else:
            customer = await Customer.get_or_none(id=customer_id)
            if customer is None:
                raise NotFound("customer")
            customer.mfa_required = required
            await customer.save(update_fields=["mfa_required"])
            target = f"customer:{customer.id}"
        await audit(
            "mfa.requirement_changed",
            actor=admin,
            target=target,
            client_address=client_address,
            required=required,
        )
    return customer
